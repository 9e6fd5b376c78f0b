// The operator under benchmark in a Node process of its own, as it runs in a pod: `node
// operator/src/main.ts` with its configuration in the environment (operator/src/config.ts),
// so it shares its event loop, heap and connection pools with neither the bench nor the
// LiteLLM test server. The bench reads it from outside: its /metrics (reconciles, queue,
// routing writes), /proc (CPU, RSS) and, on SIGUSR2, the figures operator-probe.ts writes
// (heap after GC, event-loop utilisation); its CPU is counted by probes.ts › cpuSeconds as
// the bench's child. Its log goes to a file.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import type { OperatorProbe } from './operator-probe.ts';
import { parsePrometheusText, type Sample } from './prom-text.ts';

const MAIN = fileURLToPath(new URL('../../../operator/src/main.ts', import.meta.url));
const PROBE = fileURLToPath(new URL('./operator-probe.ts', import.meta.url));

export interface OperatorProcessOptions {
  kubeconfigYaml: string;
  /** The operator's environment (LITELLM_URL, REDIS_URL, RESYNC_INTERVAL, …). */
  env: Record<string, string>;
  /** Where its log goes. */
  logFile: string;
  /** Default: this checkout's operator/src/main.ts (BENCH_OPERATOR_MAIN overrides). */
  main?: string;
  readyTimeoutMs?: number;
  /** Extra Node flags, e.g. --cpu-prof (the profile is written when the process exits). */
  nodeFlags?: readonly string[];
}

export interface OperatorProcess {
  pid: number;
  main: string;
  metricsUrl: string;
  metrics(): Promise<Sample[]>;
  /** Collects garbage in the operator and returns its own figures. */
  probe(): Promise<OperatorProbe>;
  /** Resident set size now, from /proc (no GC first). */
  rss(): Promise<number>;
  /** Where the resident memory is now (/proc/<pid>/smaps_rollup), no GC first. */
  residentMemory(): Promise<ResidentMemory>;
  stop(): Promise<void>;
}

export async function startOperatorProcess(
  options: OperatorProcessOptions,
): Promise<OperatorProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-operator-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const probeFile = join(dir, 'probe.json');
  await writeFile(kubeconfig, options.kubeconfigYaml, { mode: 0o600 });
  const healthPort = await getPort();
  const main = options.main ?? process.env.BENCH_OPERATOR_MAIN ?? MAIN;
  await mkdir(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile);
  const flags = ['--expose-gc', ...(options.nodeFlags ?? []), '--import', PROBE];
  const child: ChildProcess = spawn(process.execPath, [...flags, main], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KUBECONFIG: kubeconfig,
      HEALTH_PORT: String(healthPort),
      LEADER_ELECTION: 'false',
      BENCH_PROBE_FILE: probeFile,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const pid = child.pid!;
  const base = `http://127.0.0.1:${healthPort}`;

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(
        `the operator exited (${exitCode}) before it was ready; see ${options.logFile}`,
      );
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline)
      throw new Error(`the operator was not ready within the timeout; see ${options.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  let lastSeq = 0;
  return {
    pid,
    main,
    metricsUrl: `${base}/metrics`,
    async metrics() {
      const response = await fetch(`${base}/metrics`);
      if (!response.ok) throw new Error(`operator /metrics: ${response.status}`);
      return parsePrometheusText(await response.text());
    },
    async probe() {
      child.kill('SIGUSR2');
      const until = Date.now() + 10_000;
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const probe = await readFile(probeFile, 'utf8')
          .then((text) => JSON.parse(text) as OperatorProbe)
          .catch(() => undefined);
        if (probe && probe.seq > lastSeq) {
          lastSeq = probe.seq;
          return probe;
        }
        if (Date.now() > until) throw new Error('the operator did not answer the probe');
      }
    },
    async rss() {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kib = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      return kib * 1024;
    },
    residentMemory: () => residentMemory(pid),
    async stop() {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** /proc/<pid>/smaps_rollup, in bytes: what RSS is made of. */
export interface ResidentMemory {
  rss: number;
  /** Private memory: V8's heap, malloc's arenas (undici, TLS, zlib), thread stacks. */
  anonymous: number;
  /** Pages of mapped files (RSS less anonymous): the node binary's code, shared libraries. */
  file: number;
}

export async function residentMemory(pid: number): Promise<ResidentMemory> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  const rss = kib('Rss');
  const anonymous = kib('Anonymous');
  return { rss, anonymous, file: rss - anonymous };
}
