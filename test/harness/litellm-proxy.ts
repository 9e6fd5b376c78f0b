// The real LiteLLM proxy (PyPI `litellm[proxy]`), started on a free loopback port without a
// database, as CONTRACT-VERIFIED.md §8 found it runs here: master key, a few models answered
// by the fake OpenAI upstream (test/fake-openai) or by `mock_response`, the bundled model cost
// map (LITELLM_LOCAL_MODEL_COST_MAP=True: no fetch from GitHub). It serves /v1/models,
// /model/info, /health/*, inference with the master key and every error envelope; key, user
// and team management answer "No db connected" (the Prisma engines it needs cannot be
// downloaded here), so those are tested against test/litellm-server only.
//
// The venv comes from test/harness/bin/install-litellm.sh; this module never installs: when
// the venv is missing it throws, naming the script to run.
import { access, constants, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { stringify } from 'yaml';
import { startFakeOpenAI, type FakeOpenAI } from '../fake-openai/server.ts';
import { startProcess, waitUntilReady } from './process.ts';

/** The version install-litellm.sh installs by default and CONTRACT-VERIFIED.md read. */
export const LITELLM_VERSION = '1.108.7';

export const installScript = fileURLToPath(new URL('./bin/install-litellm.sh', import.meta.url));

export interface LiteLLMInstall {
  version: string;
  venv: string;
  litellm: string;
}

/** Where install-litellm.sh puts the venv (same rules as the script). */
export function litellmVenvDir(
  version = LITELLM_VERSION,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const root =
    env.LLM_TENANCY_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'llm-tenancy');
  return join(root, `litellm-${version}`);
}

/** Thrown when the venv is not there; its message says how to get it. */
export class LiteLLMNotInstalledError extends Error {
  override readonly name = 'LiteLLMNotInstalledError';
}

/** The installed proxy, or a LiteLLMNotInstalledError naming the script to run. */
export async function findLiteLLM(
  version = process.env.LITELLM_VERSION || LITELLM_VERSION,
): Promise<LiteLLMInstall> {
  const venv = litellmVenvDir(version);
  const litellm = join(venv, 'bin', 'litellm');
  const complete = await Promise.all([
    access(litellm, constants.X_OK).then(
      () => true,
      () => false,
    ),
    readFile(join(venv, '.llm-tenancy-installed'), 'utf8').then(
      () => true,
      () => false,
    ),
  ]);
  if (!complete.every(Boolean)) {
    throw new LiteLLMNotInstalledError(
      `the real LiteLLM proxy ${version} is not installed (no complete venv at ${venv}): run ` +
        `bash test/harness/bin/install-litellm.sh (about 20 s, from PyPI), or set ` +
        `LLM_TENANCY_SKIP_REAL_LITELLM=1 to skip the real-LiteLLM contract tests`,
    );
  }
  return { version, venv, litellm };
}

export interface LiteLLMProxyOptions {
  /** Default: a random sk- key. */
  masterKey?: string;
  /** Readiness timeout. The proxy takes about 40 s to import on two cores. Default 180 s. */
  timeoutMs?: number;
}

export interface LiteLLMProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  masterKey: string;
  version: string;
  /** Served by the fake OpenAI upstream (chat, streaming, usage). */
  chatModel: string;
  /** Answered by LiteLLM itself from `mock_response`. */
  mockModel: string;
  /** Embeddings from the fake OpenAI upstream. */
  embeddingModel: string;
  /** What `mockModel` answers. */
  mockResponse: string;
  upstream: FakeOpenAI;
  logFile: string;
  startupMs: number;
  stop(): Promise<void>;
}

/**
 * How the proxy is started: through `env`, so it runs without a database even when the
 * developer has DATABASE_URL set, with the bundled cost map and no telemetry.
 */
export function liteLLMCommand(
  install: LiteLLMInstall,
  configFile: string,
  port: number,
): { command: string; args: string[] } {
  return {
    command: 'env',
    args: [
      '-u',
      'DATABASE_URL',
      '-u',
      'LITELLM_LICENSE',
      'LITELLM_LOCAL_MODEL_COST_MAP=True',
      'LITELLM_TELEMETRY=False',
      'PYTHONUNBUFFERED=1',
      install.litellm,
      '--config',
      configFile,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
  };
}

export async function startLiteLLMProxy(options: LiteLLMProxyOptions = {}): Promise<LiteLLMProxy> {
  const install = await findLiteLLM();
  const masterKey = options.masterKey ?? `sk-master-${crypto.randomUUID()}`;
  const dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-litellm-'));
  const upstream = await startFakeOpenAI();
  const port = await getPort({ host: '127.0.0.1' });
  const mockResponse = 'hello from mock';
  const config = {
    model_list: [
      {
        model_name: 'gpt-test',
        litellm_params: {
          model: 'openai/gpt-4o-mini',
          api_key: 'sk-fake-upstream',
          api_base: upstream.url,
        },
      },
      {
        model_name: 'mock-test',
        litellm_params: {
          model: 'openai/gpt-4o-mini',
          api_key: 'sk-fake-upstream',
          api_base: 'http://127.0.0.1:9/v1',
          mock_response: mockResponse,
        },
      },
      {
        model_name: 'emb-test',
        litellm_params: {
          model: 'openai/text-embedding-3-small',
          api_key: 'sk-fake-upstream',
          api_base: upstream.url,
        },
      },
    ],
    general_settings: { master_key: masterKey },
  };
  const configFile = join(dir, 'config.yaml');
  await writeFile(configFile, stringify(config), { mode: 0o600 });
  const logFile = join(dir, 'litellm.log');

  const started = performance.now();
  // process.ts passes our environment on; liteLLMCommand adjusts it.
  const proc = await startProcess({
    name: `litellm ${install.version}`,
    ...liteLLMCommand(install, configFile, port),
    logFile,
  });
  const cleanup = async () => {
    await proc.stop(10_000);
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(
      proc,
      async () => {
        const res = await fetch(`${url}/health/readiness`, { signal: AbortSignal.timeout(2_000) });
        return res.ok && ((await res.json()) as { status?: string }).status === 'healthy';
      },
      { what: `${url}/health/readiness`, timeoutMs: options.timeoutMs ?? 180_000, intervalMs: 250 },
    );
  } catch (err) {
    await cleanup().catch(() => {});
    throw err;
  }
  return {
    url,
    port,
    masterKey,
    version: install.version,
    chatModel: 'gpt-test',
    mockModel: 'mock-test',
    embeddingModel: 'emb-test',
    mockResponse,
    upstream,
    logFile,
    startupMs: Math.round(performance.now() - started),
    stop: cleanup,
  };
}
