// The gateway bench's servers, each a child process (test/harness/process.ts: logs to a file,
// killed if the bench dies): the fake OpenAI upstream, the bare pass-through and gateways
// (server-child.ts), and the real LiteLLM proxy from PyPI against the same upstream. Also the
// CPU time each one used, from /proc, for "CPU per request" figures.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { stringify } from 'yaml';
import { findLiteLLM, liteLLMCommand } from '../../harness/litellm-proxy.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from '../../harness/process.ts';
import type { ReadyFile } from './server-child.ts';

const childScript = fileURLToPath(new URL('./server-child.ts', import.meta.url));

export interface Server {
  name: string;
  url: string;
  managementUrl?: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface NodeServerOptions {
  /** For errors and log names. */
  name: string;
  kind: 'upstream' | 'bare' | 'gateway';
  /** Directory for the log and the ready file. */
  dir: string;
  env?: Record<string, string>;
  /** Extra Node flags, e.g. --cpu-prof. */
  nodeFlags?: readonly string[];
  /** A command the server runs under, e.g. valgrind (callgrind.ts): its pid stays the server's. */
  wrapper?: readonly string[];
  timeoutMs?: number;
}

/** A server-child.ts process, once it wrote its ready file. */
export async function startNodeServer(options: NodeServerOptions): Promise<Server> {
  const readyFile = join(options.dir, `${options.name}.ready.json`);
  const logFile = join(options.dir, `${options.name}.log`);
  await rm(readyFile, { force: true }); // left by an earlier run in the same directory
  // The child inherits this environment (process.ts); `env` adds the server's own settings.
  const env = { ...options.env, BENCH_READY_FILE: readyFile };
  const proc = await startProcess({
    name: options.name,
    command: 'env',
    args: [
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...(options.wrapper ?? []),
      process.execPath,
      ...(options.nodeFlags ?? []),
      childScript,
      options.kind,
    ],
    logFile,
  });
  let ready: ReadyFile | undefined;
  try {
    await waitUntilReady(
      proc,
      async () => {
        ready = JSON.parse(await readFile(readyFile, 'utf8')) as ReadyFile;
        return true;
      },
      { what: `${options.name} (${readyFile})`, timeoutMs: options.timeoutMs ?? 60_000 },
    );
  } catch (err) {
    await proc.stop(2_000);
    throw err;
  }
  return {
    name: options.name,
    url: ready!.url,
    ...(ready!.managementUrl ? { managementUrl: ready!.managementUrl } : {}),
    pid: ready!.pid,
    logFile,
    stop: () => proc.stop(15_000),
  };
}

export interface LiteLLMServer extends Server {
  version: string;
  masterKey: string;
  startupMs: number;
}

/**
 * The real LiteLLM proxy, as test/harness/litellm-proxy.ts starts it (no database, bundled
 * cost map, no telemetry, one uvicorn worker: its defaults), but against `upstream` (base
 * URL without /v1) so it shares the bench's upstream, serving `model`. Throws
 * LiteLLMNotInstalledError when the venv is missing.
 */
export async function startLiteLLM(options: {
  upstream: string;
  model: string;
  dir: string;
  timeoutMs?: number;
}): Promise<LiteLLMServer> {
  const install = await findLiteLLM();
  const masterKey = `sk-master-${crypto.randomUUID()}`;
  const port = await getPort({ host: '127.0.0.1' });
  const configFile = join(options.dir, 'litellm-config.yaml');
  await writeFile(
    configFile,
    stringify({
      model_list: [
        {
          model_name: options.model,
          litellm_params: {
            model: `openai/${options.model}`,
            api_key: 'sk-fake-upstream',
            api_base: `${options.upstream}/v1`,
          },
        },
      ],
      general_settings: { master_key: masterKey },
    }),
    { mode: 0o600 },
  );
  const logFile = join(options.dir, 'litellm.log');
  const started = performance.now();
  const proc: ManagedProcess = await startProcess({
    name: `litellm ${install.version}`,
    ...liteLLMCommand(install, configFile, port),
    logFile,
  });
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
    await proc.stop(5_000);
    throw err;
  }
  return {
    name: 'litellm',
    url,
    pid: proc.pid,
    logFile,
    version: install.version,
    masterKey,
    startupMs: performance.now() - started,
    stop: () => proc.stop(10_000),
  };
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) of process `pid` and its threads; NaN when unreadable. */
export async function cpuOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of this process (main thread and autocannon alike). */
export function ownCpu(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** The pid of this process's child named `comm` (e.g. redis-server), if any. */
export async function childPid(comm: string): Promise<number | undefined> {
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    if (close < 0 || stat.slice(stat.indexOf('(') + 1, close) !== comm) continue;
    if (Number(stat.slice(close + 2).split(' ')[1]) === process.pid) return Number(entry);
  }
  return undefined;
}

/** Busy and total CPU time of the whole machine so far, in clock ticks (/proc/stat). */
export async function machineCpu(): Promise<{ busy: number; total: number }> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
    // cpu user nice system idle iowait irq softirq steal guest guest_nice
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .split(/\s+/)
      .slice(1, 9)
      .map(Number) as [number, number, number, number, number, number, number, number];
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}
