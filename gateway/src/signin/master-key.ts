// The LiteLLM master key as the people side checks it: read from the Secret file the operator
// mounts (LITELLM_MASTER_KEY_FILE) and read again when the file changes, so rotating the
// Secret rotates it here without a restart. Kubernetes updates a mounted Secret by swapping a
// symlink, which fs.watch on the file may miss: a stat at most every `checkIntervalMs` (on
// use) catches that too. Compared in constant time over SHA-256 digests, so neither the key
// nor its length shows in the timing; the key itself is never logged. The usage API also
// sends it to LiteLLM's admin API (bearer), the one place it leaves the process.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from 'pino';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export interface MasterKeyOptions {
  file: string;
  logger: Logger;
  /** Longest a rotated file goes unnoticed. Default 2 s. */
  checkIntervalMs?: number;
}

export class MasterKey {
  readonly #file: string;
  readonly #log: Logger;
  readonly #checkIntervalMs: number;
  #digest: Buffer | undefined;
  #key: string | undefined;
  #version = '';
  #checkedAt = 0;
  #reading: Promise<void> | undefined;

  constructor(options: MasterKeyOptions) {
    this.#file = options.file;
    this.#log = options.logger.child({ masterKeyFile: options.file });
    this.#checkIntervalMs = options.checkIntervalMs ?? 2_000;
  }

  /** Reads the file now (at start: a missing file is logged, and no key matches). */
  async load(): Promise<void> {
    await this.#refresh(true);
  }

  /** True when `candidate` is the current master key. */
  async matches(candidate: string): Promise<boolean> {
    if (Date.now() - this.#checkedAt >= this.#checkIntervalMs) await this.#refresh(false);
    const current = this.#digest;
    // The comparison runs whether or not a key is loaded: the time says nothing either way.
    const ok = timingSafeEqual(digest(candidate), current ?? digest(''));
    return ok && current !== undefined;
  }

  /** The current master key, to call LiteLLM's admin API with; undefined when unreadable. */
  async current(): Promise<string | undefined> {
    if (Date.now() - this.#checkedAt >= this.#checkIntervalMs) await this.#refresh(false);
    return this.#key;
  }

  #refresh(force: boolean): Promise<void> {
    this.#reading ??= this.#read(force).finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(force: boolean): Promise<void> {
    this.#checkedAt = Date.now();
    try {
      const info = await stat(this.#file);
      // mtime, size and inode: a swapped symlink (a Secret update) changes the inode.
      const version = `${info.ino}:${info.size}:${info.mtimeMs}`;
      if (!force && version === this.#version) return;
      const key = (await readFile(this.#file, 'utf8')).trim();
      const changed = this.#version !== '';
      this.#version = version;
      this.#digest = key === '' ? undefined : digest(key);
      this.#key = key === '' ? undefined : key;
      if (key === '') this.#log.warn('the master key file is empty: master-key access is off');
      else if (changed) this.#log.info('the master key file changed: using the new key');
    } catch (err) {
      if (this.#digest !== undefined || force) {
        this.#log.warn(
          { err: { code: (err as NodeJS.ErrnoException).code } },
          'cannot read the master key file: master-key access is off until it is back',
        );
      }
      this.#digest = undefined;
      this.#key = undefined;
      this.#version = '';
    }
  }
}
