// Where `kubectl llm login` keeps its token, the way kubelogin keeps its own: one file per
// gateway and kubeconfig context under kubectl's cache directory ($KUBECACHEDIR, else
// ~/.kube/cache), in llm-tenancy/, named by a SHA-256 of the two, readable by its owner only
// (0600, in a 0700 directory). Written to a temporary file and renamed, so a reader never
// sees half a token.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CachedToken {
  gateway: string;
  context: string;
  /** llmt_cli_…: the gateway's CLI session, sent as "Authorization: Bearer". */
  token: string;
  /** ISO time after which the gateway no longer takes it. */
  expiresAt: string;
  user: string;
  login: string;
}

export class TokenCache {
  readonly dir: string;

  constructor(env: Record<string, string | undefined>) {
    const cacheDir = env.KUBECACHEDIR || join(env.HOME || homedir(), '.kube', 'cache');
    this.dir = join(cacheDir, 'llm-tenancy');
  }

  file(gateway: string, context: string): string {
    const key = createHash('sha256').update(`${gateway}\n${context}`).digest('hex');
    return join(this.dir, `${key}.json`);
  }

  read(gateway: string, context: string): CachedToken | undefined {
    try {
      const cached = JSON.parse(readFileSync(this.file(gateway, context), 'utf8')) as CachedToken;
      return typeof cached.token === 'string' ? cached : undefined;
    } catch {
      return undefined;
    }
  }

  write(entry: CachedToken): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const file = this.file(entry.gateway, entry.context);
    const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, file);
    return file;
  }

  remove(gateway: string, context: string): void {
    rmSync(this.file(gateway, context), { force: true });
  }
}
