// Where LiteLLM is and the master key to call it with, from the environment:
//
//   LITELLM_URL               base URL of the proxy, e.g. http://litellm.litellm.svc:4000
//   LITELLM_MASTER_KEY        the master key itself (development), or
//   LITELLM_MASTER_KEY_FILE   a file holding it: the Helm chart mounts the Secret there, and
//                             the file is re-read (at most every `refreshMs`), so a rotated
//                             Secret is picked up without a restart.
import { secretFromFile } from '../../../contracts/config/secret-file.ts';

/** The master key, or a function giving the current one (re-read from a mounted Secret). */
export type MasterKeySource = string | (() => string | Promise<string>);

export interface LiteLLMConfig {
  baseUrl: string;
  masterKey: MasterKeySource;
}

export function litellmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LiteLLMConfig {
  const baseUrl = env.LITELLM_URL?.trim();
  if (!baseUrl) throw new Error('LITELLM_URL is not set: the base URL of the LiteLLM proxy');
  try {
    new URL(baseUrl);
  } catch {
    throw new Error(`LITELLM_URL is not a URL: ${JSON.stringify(baseUrl)}`);
  }
  const file = env.LITELLM_MASTER_KEY_FILE?.trim();
  const inline = env.LITELLM_MASTER_KEY?.trim();
  if (file && inline) {
    throw new Error('set LITELLM_MASTER_KEY or LITELLM_MASTER_KEY_FILE, not both');
  }
  if (file) return { baseUrl, masterKey: masterKeyFromFile(file) };
  if (inline) return { baseUrl, masterKey: inline };
  throw new Error(
    'no LiteLLM master key: set LITELLM_MASTER_KEY_FILE (a mounted Secret) or LITELLM_MASTER_KEY',
  );
}

/** The key in `path`, re-read when older than `refreshMs` (contracts/config/secret-file.ts). */
export function masterKeyFromFile(path: string, refreshMs = 10_000): () => Promise<string> {
  return secretFromFile(path, 'LiteLLM master key', refreshMs);
}
