// A secret read from a file (a mounted Secret): read now, so a missing Secret fails at start
// with the path in the message, and re-read when older than `refreshMs`, so a rotated Secret
// is picked up without a restart (the kubelet updates the file in place). A failed re-read
// keeps the last good value. The value itself never appears in a message.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export function secretFromFile(
  path: string,
  what: string,
  refreshMs = 10_000,
): () => Promise<string> {
  let value = readSecret(readFileSync(path, 'utf8'), path, what);
  let readAt = Date.now();
  return async () => {
    if (Date.now() - readAt >= refreshMs) {
      readAt = Date.now();
      try {
        value = readSecret(await readFile(path, 'utf8'), path, what);
      } catch {
        // Keep the last good value; the next call tries again after refreshMs.
      }
    }
    return value;
  };
}

function readSecret(text: string, path: string, what: string): string {
  const value = text.trim();
  if (!value) throw new Error(`${what} file ${path} is empty`);
  return value;
}
