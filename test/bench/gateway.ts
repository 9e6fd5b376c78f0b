// Benchmark (not a test: no thresholds) of the gateway's request path, against baselines
// measured in the same run on the same upstream: one fake OpenAI server (test/fake-openai).
// Every server is a Node process of its own (support/server-child.ts) and so is Redis;
// autocannon drives the load from this process, so no two of them share an event loop.
//
//   (a) POST /v1/chat/completions at 1, 16 and 64 connections: p50/p99 latency and req/s
//       straight to the upstream ("direct"), through a bare fastify + undici pass-through
//       with no policy (support/bare-proxy.ts) and through the gateway, with a key whose
//       KeyPolicy (published by the operator's RoutingPublisher) sets rpm and tpm limits
//       at key, subscription and team scope, high enough never to refuse, so the limiter's
//       Redis script runs on every request as in production. Added latency = gateway − direct
//       and gateway − bare, paired round by round; throughput ratio gateway / bare; and the
//       gateway's own figure for each request, its x-llmtenancy-overhead-ms header.
//   (b) the gateway against the real LiteLLM proxy from PyPI (no database, so with its master
//       key: virtual keys need a database) on the same upstream: req/s ratio and latencies,
//       at 1 and 16 connections; skipped, loudly, when LiteLLM is not installed.
//   (c) lookup cost: a second gateway whose routing config (another prefix in the same
//       Redis) holds 10,000 keys instead of 1, asked with the same key as (a), and with
//       requests spread over all 10,000 keys (each connection cycles through its share; every
//       key was asked once before, so the gateway's policy cache holds them all): latency and
//       req/s against the 1-key gateway, at 1 and 16 connections, in (a)'s rounds.
//   (a, baseline) with a second gateway build (BENCH_GATEWAY_BASELINE=<git ref>, or
//       BENCH_GATEWAY_BASELINE_MODULE=<another checkout>/gateway/src/server.ts): a server
//       "gateway-baseline" joins (a)'s rotation with the same upstream, Redis, key and limits
//       (the same KeyPolicy, written by this build's RoutingPublisher as the operator writes
//       it, under a prefix of its own so the two never share counters; records are additive,
//       so an older gateway reads them and drops the fields it does not know). Reports this
//       build / the baseline, paired round by round: req/s, p50, p99, the overhead header and
//       proxy CPU per request, with the issue's budget (≥ 0.95× the baseline's req/s).
//       A git ref is exported with `git archive` to ~/.cache/llm-tenancy/bench-baseline/<commit>
//       and gets its own `npm ci` there, once per commit (support/baseline.ts).
//
// Every measurement is preceded by a warm-up at the same concurrency; the cases are
// interleaved (their order rotates every round) and repeated BENCH_ROUNDS times; figures are
// the median over rounds. Latencies are autocannon's per-response times in fractional ms
// (support/load.ts), not its whole-millisecond histogram. CPU per request comes from /proc.
// Nothing is pinned: on a two-core machine the load generator, the proxy, the upstream and
// Redis share both cores, so req/s is the whole set's, and a neighbour's busy process takes
// half of it: a measurement during which other processes used more than BENCH_BUSY_LIMIT
// cores (0.25) is taken again, up to BENCH_BUSY_RETRIES times (2). Prints tables; writes
// .bench/gateway.json.
//
//   npm run bench -- gateway
//   BENCH_DURATION=2 BENCH_ROUNDS=1 BENCH_WARMUP=0.5 node test/bench/gateway.ts   (quick look)
//   BENCH_CONNECTIONS=1,16,64  BENCH_KEYS_CONNECTIONS=1,16  BENCH_LITELLM_CONNECTIONS=1,16
//   BENCH_KEYS=10000
//   LLM_TENANCY_SKIP_REAL_LITELLM=1                              (leave out (b))
//   BENCH_GATEWAY_MODULE=/other/checkout/gateway/src/server.ts    (bench another build)
//   BENCH_GATEWAY_BASELINE=main npm run bench -- gateway           (and main beside it)
//   BENCH_GATEWAY_BASELINE_MODULE=/tmp/gw-old/gateway/src/server.ts (a checkout of your own)
//
// Quick mode, what a change's budget asks (needs a baseline): this build and the baseline
// only, at 16 connections, 5 rounds (no direct, bare, 10,000 keys or LiteLLM); about two
// minutes on a quiet machine, more when busy-retries run; the first run with a new ref adds
// its npm ci (about a minute):
//
//   BENCH_GATEWAY_BASELINE=main npm run bench -- gateway --quick    (or BENCH_QUICK=1)
//
// Instructions per request (instead of the measurements above), the measure to compare builds
// by on a busy machine: wall-clock req/s and CPU time move with CPU steal and neighbours,
// instruction counts do not. Each build in turn runs under valgrind's callgrind
// (support/callgrind.ts) with counting off, gets BENCH_INSTRUCTIONS_WARMUP requests (1,500)
// to warm its JIT up, then is counted over BENCH_INSTRUCTIONS_REQUESTS (500,2500: cumulative
// counts; per request = the instructions between the first and the last count / the requests
// between them, so start-up, warm-up and the toggling cancel) at
// BENCH_INSTRUCTIONS_CONNECTIONS (16). Prints instructions per request by build, new / base,
// and (with a baseline) the functions whose self instructions per request differ most (V8
// builtins and Node's C++ by name; optimised JavaScript has no symbol under callgrind: "JIT
// code"); writes .bench/gateway-instructions.json and the dumps to .bench/instructions/
// (callgrind_annotate <dump>). Needs valgrind; a build under callgrind serves tens of times
// slower (start-up alone takes minutes on a busy machine), and the counts do not depend on
// that, so two runs (one per build, BENCH_GATEWAY_MODULE=…) may go side by side:
//
//   BENCH_GATEWAY_BASELINE=9630105 npm run bench -- gateway --instructions
//   BENCH_INSTRUCTIONS_WARMUP=400 BENCH_INSTRUCTIONS_REQUESTS=200,700 \
//     BENCH_GATEWAY_MODULE=<build>/gateway/src/server.ts npm run bench -- gateway --instructions
//
// CPU profile of a server under load (instead of the measurements above):
//
//   npm run bench -- gateway --profile          (the gateway; --profile=bare, --profile=gateway,bare)
//   BENCH_PROFILE=gateway,bare node test/bench/gateway.ts
//   BENCH_PROFILE_SECONDS=10 BENCH_PROFILE_CONNECTIONS=64
//   BENCH_PROFILE_REQUESTS=5000     (a fixed number of requests instead: compare builds by busy time per response)
//
// starts the server with --cpu-prof (profiles in .bench/profiles/), loads it for
// BENCH_PROFILE_SECONDS at BENCH_PROFILE_CONNECTIONS, and prints the top self-time functions
// and places (packages, Node internals, gateway files) of the samples taken under load;
// writes .bench/gateway-profile.json.
import { randomBytes, randomUUID } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { ROUTING_SCHEMA_VERSION, type KeyPolicy } from '../../contracts/routing/schema.ts';
import { hashKey } from '../../operator/src/litellm/hash.ts';
import { RoutingPublisher } from '../../operator/src/routing/routing-publisher.ts';
import { createRoutingRedis } from '../../operator/src/routing/routing-redis.ts';
import { silentLogger } from '../../operator/src/runtime/logger.ts';
import { LiteLLMNotInstalledError } from '../harness/litellm-proxy.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { prepareBaseline } from './support/baseline.ts';
import {
  annotate,
  callgrindAvailable,
  callgrindWrapper,
  dumpInstructions,
  instrument,
} from './support/callgrind.ts';
import { summarizeProfile, type ProfileSummary } from './support/cpu-profile.ts';
import { probe, runLoad, type LoadResult, type Target } from './support/load.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { count, ms, renderTable, writeJson, type Table } from './support/report.ts';
import {
  childPid,
  cpuOf,
  machineCpu,
  ownCpu,
  startLiteLLM,
  startNodeServer,
  type LiteLLMServer,
  type Server,
} from './support/servers.ts';
import { ratio } from './support/stats.ts';

const NAME = 'gateway';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** --quick / BENCH_QUICK=1: the gateway against the baseline build at 16 connections, nothing else. */
const QUICK =
  process.argv.slice(2).includes('--quick') ||
  ['1', 'true'].includes(process.env.BENCH_QUICK ?? '');
const DURATION = numberFromEnv('BENCH_DURATION', 5);
const WARMUP = numberFromEnv('BENCH_WARMUP', 1);
const ROUNDS = intFromEnv('BENCH_ROUNDS', QUICK ? 5 : 3);
const CONNECTIONS = listFromEnv('BENCH_CONNECTIONS', QUICK ? [16] : [1, 16, 64]);
const KEYS_CONNECTIONS = listFromEnv('BENCH_KEYS_CONNECTIONS', [1, 16]);
const LITELLM_CONNECTIONS = listFromEnv('BENCH_LITELLM_CONNECTIONS', [1, 16]);
const KEYS = intFromEnv('BENCH_KEYS', 10_000);
const PROFILE_SECONDS = numberFromEnv('BENCH_PROFILE_SECONDS', 10);
const PROFILE_CONNECTIONS = intFromEnv('BENCH_PROFILE_CONNECTIONS', 64);
/** BENCH_PROFILE_REQUESTS: profile a fixed number of requests instead of a fixed time. */
const PROFILE_REQUESTS = intOrZeroFromEnv('BENCH_PROFILE_REQUESTS', 0);
const SKIP_LITELLM = ['1', 'true'].includes(process.env.LLM_TENANCY_SKIP_REAL_LITELLM ?? '');
const PROFILE = profileTargets();
/** --instructions / BENCH_INSTRUCTIONS=1: instruction counts per request under callgrind. */
const INSTRUCTIONS =
  process.argv.slice(2).includes('--instructions') ||
  ['1', 'true'].includes(process.env.BENCH_INSTRUCTIONS ?? '');
/** Two request counts, counted from the same start: their difference cancels fixed costs. */
const INSTRUCTION_REQUESTS = listFromEnv('BENCH_INSTRUCTIONS_REQUESTS', [500, 2500]);
const INSTRUCTION_WARMUP = intFromEnv('BENCH_INSTRUCTIONS_WARMUP', 1500);
const INSTRUCTION_CONNECTIONS = intFromEnv('BENCH_INSTRUCTIONS_CONNECTIONS', 16);
/** A measurement during which other processes used more cores than this is taken again. */
const BUSY_LIMIT = numberFromEnv('BENCH_BUSY_LIMIT', 0.25);
const BUSY_RETRIES = intOrZeroFromEnv('BENCH_BUSY_RETRIES', 2);

const MODEL = 'fake-model';
const BODY = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello world' }] });
const EXPECT = 'echo: hello world';
const OVERHEAD_HEADER = 'x-llmtenancy-overhead-ms';
/** High enough never to refuse; present so the limiter counts every request. */
const NEVER = { rpm: 1_000_000_000, tpm: 1_000_000_000_000 };
// BENCH_BUDGETS (1; 0 off): the key and the team also have a budget never reached, and the
// upstream reports each call's cost ($0.0004) as LiteLLM does, so every request is checked
// against the spend counters at admission and charged at its answer's head. A baseline that
// predates the gateway's budgets gets the same records and ignores the budgets.
const BUDGETS = process.env.BENCH_BUDGETS !== '0';
const NEVER_SPENT = BUDGETS ? { maxBudget: '1000000000' } : {};
const PREFIX_ONE = 'bench1:';
const PREFIX_MANY = 'benchmany:';
const PREFIX_BASELINE = 'benchbase:';
const gatewayModule = process.env.BENCH_GATEWAY_MODULE ?? join(ROOT, 'gateway/src/server.ts');
/** The issue's budget: the new build keeps at least this share of the baseline's req/s. */
const BASELINE_BUDGET = 0.95;

function numberFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
}

function intFromEnv(name: string, fallback: number): number {
  const n = numberFromEnv(name, fallback);
  if (!Number.isInteger(n)) throw new Error(`${name} must be a positive integer`);
  return n;
}

function intOrZeroFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be an integer ≥ 0`);
  return n;
}

function listFromEnv(name: string, fallback: number[]): number[] {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`${name} must be a comma-separated list of positive integers`);
  }
  return list;
}

/** --profile[=gateway,bare] or BENCH_PROFILE=1|gateway|bare|gateway,bare; empty: no profile. */
function profileTargets(): ('gateway' | 'bare')[] {
  const flag = process.argv.slice(2).find((a) => a === '--profile' || a.startsWith('--profile='));
  const raw = flag ? (flag.split('=')[1] ?? 'gateway') : (process.env.BENCH_PROFILE ?? '');
  if (raw === '' || raw === '0') return [];
  const list = raw === '1' || raw === 'true' ? ['gateway'] : raw.split(',').map((s) => s.trim());
  for (const t of list) {
    if (t !== 'gateway' && t !== 'bare') throw new Error(`cannot profile ${t}: gateway or bare`);
  }
  return list as ('gateway' | 'bare')[];
}

// ---- the routing config -------------------------------------------------------------

function policy(key: string, i: number, team: string): KeyPolicy {
  return {
    schemaVersion: ROUTING_SCHEMA_VERSION,
    keyHash: hashKey(key),
    owner: { namespace: `bench-${team}`, name: `key-${i}`, uid: randomUUID() },
    team,
    models: [MODEL],
    // The subscription's uid names its counters (a build that predates it drops the field).
    limits: {
      key: { ...NEVER, ...NEVER_SPENT },
      team: { ...NEVER, ...NEVER_SPENT },
      subscriptions: { [MODEL]: { ...NEVER, uid: randomUUID() } },
    },
    suspended: false,
  };
}

/**
 * Publishes `total` KeyPolicies under `prefix` with the operator's RoutingPublisher, one
 * put each as the operator makes them, the first for `key` (the others in 100 teams);
 * returns the keys and the time taken.
 */
async function publish(redis: Redis, prefix: string, key: string, total: number) {
  const publisher = new RoutingPublisher({ redis, prefix, logger: silentLogger });
  const started = performance.now();
  await publisher.putModels({
    schemaVersion: ROUTING_SCHEMA_VERSION,
    models: { [MODEL]: { provider: 'openai', mode: 'chat' } },
  });
  const keys = [key];
  await publisher.putKey(policy(key, 0, 'bench-team'));
  for (let i = 1; i < total; i++) {
    const other = `sk-${randomBytes(24).toString('base64url')}`;
    keys.push(other);
    await publisher.putKey(policy(other, i, `t${i % 100}`));
  }
  return { keys, records: publisher.recordCount, ms: performance.now() - started };
}

// ---- measuring ----------------------------------------------------------------------

interface Case {
  id: string;
  label: string;
  target: Target;
  /** The process serving it (CPU per request), or none for direct. */
  server?: Server;
}

interface Measurement extends Omit<LoadResult, 'latency'> {
  case: string;
  round: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** CPU seconds used during the run, by process. */
  cpu: Record<string, number>;
  /** Cores busy on the whole machine during the run (/proc/stat), ours and everyone else's. */
  machineCores: number;
  /** machineCores minus the bench's own processes: other work on the machine. */
  othersCores: number;
  /** 0 for the first try; more when earlier tries were disturbed (othersCores > BUSY_LIMIT). */
  attempt: number;
  /** CPU µs per 2xx response, by process. */
  cpuPerRequestUs: Record<string, number>;
}

interface Processes {
  upstream: Server;
  redisPid: number | undefined;
}

async function cpuSnapshot(c: Case, procs: Processes): Promise<Record<string, number>> {
  const out: Record<string, number> = {
    'load generator': ownCpu(),
    upstream: await cpuOf(procs.upstream.pid),
  };
  if (c.server) out.proxy = await cpuOf(c.server.pid);
  if (procs.redisPid !== undefined) out.redis = await cpuOf(procs.redisPid);
  return out;
}

/** CPU seconds by process between two snapshots, with `all` (their sum). */
function cpuBetween(before: Record<string, number>, after: Record<string, number>) {
  const cpu = Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - before[k]!]));
  cpu.all = Object.values(cpu).reduce((t, v) => t + v, 0);
  return cpu;
}

async function measure(c: Case, connections: number, round: number, procs: Processes) {
  if (WARMUP > 0) await runLoad(c.target, { connections, durationSeconds: WARMUP });
  const before = await cpuSnapshot(c, procs);
  const machineBefore = await machineCpu();
  const result = await runLoad(c.target, { connections, durationSeconds: DURATION });
  const machineAfter = await machineCpu();
  const after = await cpuSnapshot(c, procs);
  const cpu = cpuBetween(before, after);
  // Cores busy on the whole machine (every process, ours or not, and the kernel).
  const machineCores =
    ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) *
    machineInfo().cpus;
  const ok = result.latency.n;
  const { latency, ...rest } = result;
  const m: Measurement = {
    ...rest,
    case: c.id,
    round,
    p50: latency.p50,
    p90: latency.p90,
    p99: latency.p99,
    max: latency.max,
    mean: latency.mean,
    cpu,
    machineCores,
    othersCores: machineCores - cpu.all! / (result.elapsedMs / 1000),
    attempt: 0,
    cpuPerRequestUs: Object.fromEntries(
      Object.entries(cpu).map(([k, s]) => [k, ok > 0 ? (s * 1e6) / ok : Number.NaN]),
    ),
  };
  const problems = [
    m.non2xx > 0 ? `${m.non2xx} non-2xx (${JSON.stringify(m.statuses)})` : '',
    m.errors > 0 ? `${m.errors} errors` : '',
    m.mismatches > 0 ? `${m.mismatches} bodies not the upstream's answer` : '',
    m.header && m.header.missing > 0
      ? `${m.header.missing} responses without ${OVERHEAD_HEADER}`
      : '',
  ].filter(Boolean);
  console.log(
    `  round ${round} c=${String(connections).padEnd(3)} ${c.label.padEnd(31)} p50 ${ms(m.p50).padStart(8)}  p99 ${ms(m.p99).padStart(8)}  ${count(m.rps).padStart(6)} req/s  others ${Math.max(0, m.othersCores).toFixed(2)} cores${problems.length ? `  !! ${problems.join(', ')}` : ''}`,
  );
  return m;
}

/**
 * measure(), again (up to BUSY_RETRIES times, after a pause) while other work on the machine
 * took more than BUSY_LIMIT cores during it: on two cores, one busy neighbour halves what the
 * bench's processes get. Keeps the least disturbed try.
 */
async function measureQuietly(c: Case, connections: number, round: number, procs: Processes) {
  let best: Measurement | undefined;
  for (let attempt = 0; attempt <= BUSY_RETRIES; attempt++) {
    const m = await measure(c, connections, round, procs);
    m.attempt = attempt;
    if (!best || m.othersCores < best.othersCores) best = m;
    if (m.othersCores <= BUSY_LIMIT) break;
    if (attempt < BUSY_RETRIES) {
      console.log(
        `    other processes used ${m.othersCores.toFixed(2)} cores meanwhile: again in 5 s`,
      );
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    }
  }
  return best!;
}

/**
 * ROUNDS times: at every concurrency, every case `at` says runs there, in an order that
 * rotates from round to round.
 */
async function rounds(
  cases: Case[],
  connectionsList: number[],
  procs: Processes,
  at: (c: Case, connections: number) => boolean = () => true,
) {
  const all: Measurement[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const connections of connectionsList) {
      const here = cases.filter((c) => at(c, connections));
      const shift = (round - 1) % here.length;
      const ordered = [...here.slice(shift), ...here.slice(0, shift)];
      for (const c of ordered) all.push(await measureQuietly(c, connections, round, procs));
    }
  }
  return all;
}

function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Figures {
  p50: number;
  p99: number;
  rps: number;
  /** CPU µs per request: the proxy process, and all processes together. */
  proxyCpuUs: number;
  allCpuUs: number;
  /** CPU used by the bench's processes, in cores (of the machine's). */
  cores: number;
  /** CPU used on the machine by other processes (and the kernel), in cores. */
  othersCores: number;
  /** Measurements kept although disturbed (othersCores > BUSY_LIMIT after every retry). */
  disturbed: number;
  headerP50: number;
  headerP99: number;
  bad: number;
}

/** Median over rounds of one case at one concurrency. */
function figures(all: Measurement[], caseId: string, connections: number): Figures {
  const ms_ = all.filter((m) => m.case === caseId && m.connections === connections);
  const med = (f: (m: Measurement) => number) => median(ms_.map(f));
  return {
    p50: med((m) => m.p50),
    p99: med((m) => m.p99),
    rps: med((m) => m.rps),
    proxyCpuUs: med((m) => m.cpuPerRequestUs.proxy ?? Number.NaN),
    allCpuUs: med((m) => m.cpuPerRequestUs.all ?? Number.NaN),
    cores: med((m) => m.cpu.all! / (m.elapsedMs / 1000)),
    othersCores: med((m) => m.othersCores),
    disturbed: ms_.filter((m) => m.othersCores > BUSY_LIMIT).length,
    headerP50: med((m) => m.header?.p50 ?? Number.NaN),
    headerP99: med((m) => m.header?.p99 ?? Number.NaN),
    bad: ms_.reduce((t, m) => t + m.non2xx + m.errors + m.mismatches + (m.header?.missing ?? 0), 0),
  };
}

/** The (x, y) pairs of cases `a` and `b` measured in the same round, round by round. */
function pairs(
  all: Measurement[],
  a: string,
  b: string,
  connections: number,
): [Measurement, Measurement][] {
  const out: [Measurement, Measurement][] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const find = (id: string) =>
      all.find((m) => m.case === id && m.connections === connections && m.round === round);
    const x = find(a);
    const y = find(b);
    if (x && y) out.push([x, y]);
  }
  return out;
}

/** Median over rounds of (a − b), the two measured in the same round. */
function pairedDelta(
  all: Measurement[],
  a: string,
  b: string,
  connections: number,
  pick: (m: Measurement) => number,
): number {
  return median(pairs(all, a, b, connections).map(([x, y]) => pick(x) - pick(y)));
}

function pairedRatio(
  all: Measurement[],
  a: string,
  b: string,
  connections: number,
  pick: (m: Measurement) => number,
): number {
  return median(pairs(all, a, b, connections).map(([x, y]) => ratio(pick(x), pick(y))));
}

/** Cores busy on the machine over one second, before the bench starts anything. */
async function othersBusy(): Promise<number> {
  const before = await machineCpu();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const after = await machineCpu();
  return ((after.busy - before.busy) / (after.total - before.total)) * machineInfo().cpus;
}

// ---- formatting ---------------------------------------------------------------------

/** A latency difference to the µs: "+0.184 ms", "−0.012 ms". */
function added(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const sign = value < 0 ? '−' : '+';
  const abs = Math.abs(value);
  return `${sign}${abs >= 10 ? abs.toFixed(1) : abs.toFixed(3)} ms`;
}

function fine(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value < 10 ? `${value.toFixed(3)} ms` : ms(value);
}

function us(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} µs` : '–';
}

function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}

// ---- the baseline build -------------------------------------------------------------

interface BaselineBuild {
  module: string;
  ref?: string;
  commit?: string;
  /** For the tables' titles: the ref and commit, or the module path. */
  describe: string;
}

/**
 * The second gateway build, if asked for: BENCH_GATEWAY_BASELINE_MODULE (a gateway/src/server.ts
 * of another checkout, with its own node_modules) or BENCH_GATEWAY_BASELINE (a git ref of this
 * repository, exported and installed by support/baseline.ts).
 */
async function baselineBuild(): Promise<BaselineBuild | undefined> {
  const module = process.env.BENCH_GATEWAY_BASELINE_MODULE;
  const ref = process.env.BENCH_GATEWAY_BASELINE;
  if (module && ref) {
    throw new Error('set BENCH_GATEWAY_BASELINE or BENCH_GATEWAY_BASELINE_MODULE, not both');
  }
  if (module) {
    try {
      await access(module);
    } catch {
      throw new Error(`BENCH_GATEWAY_BASELINE_MODULE: ${module} does not exist`);
    }
    return { module, describe: module };
  }
  if (!ref) return undefined;
  const b = await prepareBaseline(ROOT, ref);
  return { ...b, describe: `${b.ref} (${b.commit.slice(0, 12)})` };
}

/** This build against the baseline at one concurrency, each ratio paired round by round. */
function baselineRatios(a: Measurement[], c: number) {
  const pick = (f: (m: Measurement) => number) =>
    pairedRatio(a, 'gateway', 'gateway-baseline', c, f);
  return {
    rps: pick((m) => m.rps),
    p50: pick((m) => m.p50),
    p99: pick((m) => m.p99),
    headerP50: pick((m) => m.header?.p50 ?? Number.NaN),
    headerP99: pick((m) => m.header?.p99 ?? Number.NaN),
    proxyCpu: pick((m) => m.cpuPerRequestUs.proxy ?? Number.NaN),
    allCpu: pick((m) => m.cpuPerRequestUs.all ?? Number.NaN),
    /** req/s over only the rounds in which neither build was disturbed (othersCores ≤ BUSY_LIMIT). */
    rpsQuiet: median(
      pairs(a, 'gateway', 'gateway-baseline', c)
        .filter(([x, y]) => x.othersCores <= BUSY_LIMIT && y.othersCores <= BUSY_LIMIT)
        .map(([x, y]) => ratio(x.rps, y.rps)),
    ),
    quietRounds: pairs(a, 'gateway', 'gateway-baseline', c).filter(
      ([x, y]) => x.othersCores <= BUSY_LIMIT && y.othersCores <= BUSY_LIMIT,
    ).length,
  };
}

// ---- the run ------------------------------------------------------------------------

interface Bed {
  dir: string;
  redis: RedisServer;
  publishRedis: Redis;
  procs: Processes;
  key: string;
  stops: (() => Promise<unknown>)[];
}

async function startBed(): Promise<Bed> {
  const dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-bench-gateway-'));
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const redis = await startRedis({ dir });
    stops.push(() => redis.stop());
    const upstream = await startNodeServer({
      name: 'upstream',
      kind: 'upstream',
      dir,
      ...(BUDGETS ? { env: { FAKE_RESPONSE_COST: '0.0004' } } : {}),
    });
    stops.push(() => upstream.stop());
    const publishRedis = createRoutingRedis(redis.url, silentLogger);
    stops.push(async () => publishRedis.disconnect());
    await new Promise<void>((resolve, reject) => {
      publishRedis.once('ready', resolve);
      publishRedis.once('error', reject);
    });
    return {
      dir,
      redis,
      publishRedis,
      procs: { upstream, redisPid: await childPid('redis-server') },
      key: `sk-bench-${randomBytes(24).toString('base64url')}`,
      stops,
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    throw err;
  }
}

async function stopBed(bed: Bed, keepDir: boolean) {
  for (const stop of [...bed.stops].reverse()) {
    await stop().catch((err: unknown) => console.error(`stopping: ${String(err)}`));
  }
  if (!keepDir) await rm(bed.dir, { recursive: true, force: true });
}

function gatewayEnv(bed: Bed, prefix: string): Record<string, string> {
  return {
    LITELLM_URL: bed.procs.upstream.url,
    REDIS_URL: bed.redis.url,
    ROUTING_PREFIX: prefix,
    PORT: '0',
    MANAGEMENT_PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
  };
}

const chat = (base: string) => `${base}/v1/chat/completions`;

function target(name: string, base: string, key: string, header = false): Target {
  return {
    name,
    url: chat(base),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: BODY,
    expect: EXPECT,
    ...(header ? { numericHeader: OVERHEAD_HEADER } : {}),
  };
}

/** One request to each case: a 2xx with the upstream's answer (and the header), or throw. */
async function smoke(cases: Case[]) {
  for (const c of cases) {
    const res = await probe(c.target);
    const problems: string[] = [];
    if (res.status !== 200) problems.push(`status ${res.status}`);
    if (!res.body.includes(EXPECT)) problems.push(`body is not the upstream's answer`);
    if (c.target.numericHeader && !res.headers.get(c.target.numericHeader)) {
      problems.push(`no ${c.target.numericHeader} header`);
    }
    if (problems.length > 0) {
      throw new Error(
        `${c.label} (${c.target.url}): ${problems.join(', ')}\n  body: ${res.body.slice(0, 500)}`,
      );
    }
  }
}

async function main(): Promise<number> {
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  try {
    await access(gatewayModule);
  } catch {
    console.error(
      `${NAME}: ${gatewayModule} does not exist: nothing to benchmark (BENCH_GATEWAY_MODULE names another build)`,
    );
    return 1;
  }
  if (PROFILE.length > 0) return profileMain(machine, startedAt);
  let baseline: BaselineBuild | undefined;
  try {
    baseline = await baselineBuild();
  } catch (err) {
    console.error(`${NAME}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  if (INSTRUCTIONS) return instructionsMain(machine, startedAt, baseline);
  if (QUICK && !baseline) {
    console.error(
      `${NAME} --quick measures this build against a baseline build: set BENCH_GATEWAY_BASELINE=<git ref> (e.g. main) or BENCH_GATEWAY_BASELINE_MODULE=<its gateway/src/server.ts>`,
    );
    return 2;
  }

  const idle = await othersBusy();
  if (idle >= 0.25) {
    console.log(
      `!!! the machine is busy before the bench starts: ${idle.toFixed(2)} of ${machine.cpus} cores in use; figures will be noisy`,
    );
  }
  console.log(
    QUICK
      ? `${NAME} --quick: ${ROUNDS} rounds; the gateway against the baseline build at ${CONNECTIONS.join('/')} connections; ${DURATION} s per measurement after ${WARMUP} s warm-up`
      : `${NAME}: ${ROUNDS} rounds; (a) at ${CONNECTIONS.join('/')} connections, (c) at ${KEYS_CONNECTIONS.join('/')}, (b) at ${LITELLM_CONNECTIONS.join('/')}; ${DURATION} s per measurement after ${WARMUP} s warm-up`,
  );
  if (baseline) console.log(`baseline build: ${baseline.describe}`);
  const bed = await startBed();
  let failed = true;
  try {
    const one = await publish(bed.publishRedis, PREFIX_ONE, bed.key, 1);
    // The baseline gets the same key and limits, written by this build's RoutingPublisher as
    // the operator writes them, under a prefix of its own so the two never share counters.
    if (baseline) await publish(bed.publishRedis, PREFIX_BASELINE, bed.key, 1);
    const many = QUICK ? undefined : await publish(bed.publishRedis, PREFIX_MANY, bed.key, KEYS);
    console.log(
      `routing config: ${count(one.records)} key under ${PREFIX_ONE}${baseline ? ` and ${PREFIX_BASELINE} (the baseline's)` : ''}` +
        (many
          ? `, ${count(many.records)} keys under ${PREFIX_MANY} (RoutingPublisher, one put each: ${ms(many.ms)})`
          : ''),
    );
    const bare = QUICK
      ? undefined
      : await startNodeServer({
          name: 'bare',
          kind: 'bare',
          dir: bed.dir,
          env: { UPSTREAM_URL: bed.procs.upstream.url },
        });
    if (bare) bed.stops.push(() => bare.stop());
    const startGatewayServer = async (name: string, prefix: string, module: string) => {
      const started = performance.now();
      const server = await startNodeServer({
        name,
        kind: 'gateway',
        dir: bed.dir,
        env: { ...gatewayEnv(bed, prefix), BENCH_GATEWAY_MODULE: module },
      });
      bed.stops.push(() => server.stop());
      return { server, ms: performance.now() - started };
    };
    const gw = await startGatewayServer('gateway', PREFIX_ONE, gatewayModule);
    const gateway = gw.server;
    const gatewayStartMs = gw.ms;
    const gwMany = QUICK
      ? undefined
      : await startGatewayServer('gateway-many', PREFIX_MANY, gatewayModule);
    const gwBaseline = baseline
      ? await startGatewayServer('gateway-baseline', PREFIX_BASELINE, baseline.module)
      : undefined;
    console.log(
      [
        `own processes: upstream ${bed.procs.upstream.url}`,
        bare ? `bare ${bare.url}` : '',
        `gateway ${gateway.url} (ready in ${ms(gatewayStartMs)})`,
        gwMany
          ? `gateway with ${count(KEYS)} keys ${gwMany.server.url} (ready in ${ms(gwMany.ms)})`
          : '',
        gwBaseline
          ? `baseline gateway ${gwBaseline.server.url} (ready in ${ms(gwBaseline.ms)})`
          : '',
      ]
        .filter(Boolean)
        .join(', ') + `; logs in ${bed.dir}`,
    );

    const cases: Case[] = [];
    if (!QUICK) {
      cases.push({
        id: 'direct',
        label: 'direct to upstream',
        target: target('direct', bed.procs.upstream.url, bed.key),
      });
    }
    if (bare) {
      cases.push({
        id: 'bare',
        label: 'bare pass-through',
        target: target('bare', bare.url, bed.key),
        server: bare,
      });
    }
    cases.push({
      id: 'gateway',
      label: 'gateway',
      target: target('gateway', gateway.url, bed.key, true),
      server: gateway,
    });
    if (gwBaseline) {
      cases.push({
        id: 'gateway-baseline',
        label: 'gateway, baseline build',
        target: target('gateway-baseline', gwBaseline.server.url, bed.key, true),
        server: gwBaseline.server,
      });
    }
    if (gwMany && many) {
      cases.push(
        {
          id: 'gateway-many',
          label: `gateway, ${count(KEYS)} keys, same key`,
          target: target('gateway-many', gwMany.server.url, bed.key, true),
          server: gwMany.server,
        },
        {
          id: 'gateway-spread',
          label: `gateway, ${count(KEYS)} keys, all asked`,
          target: {
            ...target('gateway-spread', gwMany.server.url, bed.key, true),
            keys: many.keys,
          },
          server: gwMany.server,
        },
      );
    }
    const inA = (c: Case) => ['direct', 'bare', 'gateway', 'gateway-baseline'].includes(c.id);
    const inC = (c: Case) => ['gateway', 'gateway-many', 'gateway-spread'].includes(c.id);
    await smoke(cases);
    const spread = cases.find((c) => c.id === 'gateway-spread');
    console.log(
      `smoke: every case answers 200 with the upstream's answer; warming up${spread ? ` (each of the ${count(KEYS)} keys asked once)` : ''}…`,
    );
    if (spread) {
      await runLoad(spread.target, { connections: 16, durationSeconds: 600, amount: KEYS });
    }
    // Long enough for V8 to optimise the hot paths of every server (measured in round 1, a
    // 2 s warm-up left the gateway's p50 at 1 connection ~20 % above its later rounds').
    for (const c of cases) {
      await runLoad(c.target, { connections: 16, durationSeconds: Math.max(5, 2 * WARMUP) });
    }

    console.log(QUICK ? '(a)' : '(a) and (c)');
    const connectionsAC = [...new Set([...CONNECTIONS, ...(QUICK ? [] : KEYS_CONNECTIONS)])].sort(
      (x, y) => x - y,
    );
    const a = await rounds(
      cases,
      connectionsAC,
      bed.procs,
      (c, n) => (inA(c) && CONNECTIONS.includes(n)) || (inC(c) && KEYS_CONNECTIONS.includes(n)),
    );

    // (b): LiteLLM only now, so its start (and its Python process, idle or not) stays out of (a).
    let b: Measurement[] = [];
    let litellm: LiteLLMServer | undefined;
    let litellmMissing: string | undefined;
    if (QUICK) {
      litellmMissing = 'skipped: --quick';
    } else if (SKIP_LITELLM) {
      litellmMissing = 'skipped: LLM_TENANCY_SKIP_REAL_LITELLM is set';
    } else {
      try {
        console.log('(b) starting the real LiteLLM proxy (about 40 s on two cores)…');
        litellm = await startLiteLLM({
          upstream: bed.procs.upstream.url,
          model: MODEL,
          dir: bed.dir,
        });
        bed.stops.push(() => litellm!.stop());
      } catch (err) {
        if (!(err instanceof LiteLLMNotInstalledError)) throw err;
        litellmMissing = `NOT INSTALLED: run bash test/harness/bin/install-litellm.sh (${err.message})`;
      }
    }
    if (litellmMissing && !QUICK) {
      console.log(`\n!!! (b) gateway vs the real LiteLLM proxy: ${litellmMissing}\n`);
    }
    if (litellm) {
      const litellmCase: Case = {
        id: 'litellm',
        label: `LiteLLM ${litellm.version} (master key)`,
        target: target('litellm', litellm.url, litellm.masterKey),
        server: litellm,
      };
      await smoke([litellmCase]);
      await runLoad(litellmCase.target, {
        connections: 4,
        durationSeconds: Math.max(3, 2 * WARMUP),
      });
      const inB = ['direct', 'gateway'];
      b = await rounds(
        [...cases.filter((c) => inB.includes(c.id)), litellmCase],
        LITELLM_CONNECTIONS,
        bed.procs,
      );
    }

    const tables = report(a, b, litellm, litellmMissing, baseline);
    console.log(
      `\n${NAME} — ${startedAt} — ${describeMachine(machine)}; ${idle.toFixed(2)} cores busy just before the start\n`,
    );
    console.log(tables.map(renderTable).join('\n\n'));
    const summary = (list: Measurement[], ids: string[], conns: number[]) =>
      Object.fromEntries(
        ids.map((id) => [
          id,
          Object.fromEntries(
            conns
              .filter((c) => list.some((m) => m.case === id && m.connections === c))
              .map((c) => [String(c), figures(list, id, c)]),
          ),
        ]),
      );
    const path = await writeJson(NAME, {
      bench: NAME,
      startedAt,
      machine,
      machineCoresBusyBeforeStart: idle,
      settings: {
        rounds: ROUNDS,
        durationSeconds: DURATION,
        warmupSeconds: WARMUP,
        connections: CONNECTIONS,
        keysConnections: KEYS_CONNECTIONS,
        litellmConnections: LITELLM_CONNECTIONS,
        keys: QUICK ? undefined : KEYS,
        quick: QUICK,
        gatewayModule,
        baseline: baseline
          ? { module: baseline.module, ref: baseline.ref, commit: baseline.commit }
          : undefined,
        request: JSON.parse(BODY) as unknown,
        limits: NEVER,
      },
      startup: {
        gatewayMs: gatewayStartMs,
        gatewayManyKeysMs: gwMany?.ms,
        gatewayBaselineMs: gwBaseline?.ms,
        publishManyKeysMs: many?.ms,
      },
      results: {
        latency: summary(
          a,
          cases.map((c) => c.id),
          connectionsAC,
        ),
        added: Object.fromEntries(
          CONNECTIONS.map((c) => [
            String(c),
            {
              gatewayMinusDirectP50: pairedDelta(a, 'gateway', 'direct', c, (m) => m.p50),
              gatewayMinusDirectP99: pairedDelta(a, 'gateway', 'direct', c, (m) => m.p99),
              gatewayMinusBareP50: pairedDelta(a, 'gateway', 'bare', c, (m) => m.p50),
              gatewayMinusBareP99: pairedDelta(a, 'gateway', 'bare', c, (m) => m.p99),
              rpsGatewayOverBare: pairedRatio(a, 'gateway', 'bare', c, (m) => m.rps),
            },
          ]),
        ),
        baseline: baseline
          ? Object.fromEntries(CONNECTIONS.map((c) => [String(c), baselineRatios(a, c)] as const))
          : undefined,
        litellm: litellm
          ? {
              version: litellm.version,
              startupMs: litellm.startupMs,
              ...summary(b, ['direct', 'gateway', 'litellm'], LITELLM_CONNECTIONS),
            }
          : { missing: litellmMissing },
        measurements: [...a, ...b],
      },
    });
    console.log(`\nwrote ${path}`);
    failed = false;
    return 0;
  } finally {
    await stopBed(bed, failed);
    if (failed) console.error(`server logs kept in ${bed.dir}`);
  }
}

function report(
  a: Measurement[],
  b: Measurement[],
  litellm: LiteLLMServer | undefined,
  litellmMissing: string | undefined,
  baseline: BaselineBuild | undefined,
): Table[] {
  const perCase = (list: Measurement[], id: string, label: string, c: number) => {
    const f = figures(list, id, c);
    return [
      `  ${label}`,
      fine(f.p50),
      fine(f.p99),
      count(f.rps),
      us(f.proxyCpuUs),
      us(f.allCpuUs),
      `${f.cores.toFixed(2)} / ${Math.max(0, f.othersCores).toFixed(2)}${f.disturbed > 0 ? ` (${f.disturbed} !!)` : ''}`,
      f.bad > 0 ? `${count(f.bad)} !!` : '',
    ];
  };
  const header = [
    '',
    'p50',
    'p99',
    'req/s',
    'proxy CPU/req',
    'all CPU/req',
    'cores ours / others',
    'bad',
  ];
  const plural = (c: number) => `${c} connection${c > 1 ? 's' : ''}`;
  const cpus = machineInfo().cpus;
  const tableA: Table = {
    title: `(a) POST /v1/chat/completions, non-streaming; median of ${ROUNDS} rounds of ${DURATION} s, each after ${WARMUP} s warm-up`,
    header,
    rows: CONNECTIONS.flatMap((c) => [
      [plural(c)],
      ...(
        [
          ['direct', 'direct to upstream'],
          ['bare', 'bare pass-through (fastify + undici)'],
          ['gateway', 'gateway (key policy + limits in Redis)'],
          ['gateway-baseline', 'gateway, baseline build (the same)'],
        ] as const
      )
        .filter(([id]) => a.some((m) => m.case === id && m.connections === c))
        .map(([id, label]) => perCase(a, id, label, c)),
    ]),
    notes: [
      `${cpus} CPUs, shared and pinned nowhere, by the load generator (autocannon, this process), the proxy under test, the upstream and redis-server,`,
      `each a process of its own: req/s is what the set manages on ${cpus} cores, not the proxy alone. proxy CPU/req: the proxy process's CPU time per 2xx response;`,
      'all CPU/req: with the upstream, Redis and the load generator. cores: CPU those processes used per second of wall time / what everything else on',
      `the machine used meanwhile (a measurement is taken again, up to ${BUSY_RETRIES} times, when others used more than ${BUSY_LIMIT}; "(n !!)": rounds that stayed disturbed).`,
      'bad: non-2xx, errors, bodies that were not the answer, responses without the overhead header (all should be 0).',
    ],
  };

  const d = (x: string, y: string, c: number, pick: (m: Measurement) => number) =>
    pairedDelta(a, x, y, c, pick);
  const p50 = (m: Measurement) => m.p50;
  const p99 = (m: Measurement) => m.p99;
  const rps = (m: Measurement) => m.rps;
  const tableA2: Table = {
    title:
      '(a, cont.) added latency (paired round by round, median over rounds) and throughput ratio',
    header: [
      'connections',
      'gw − direct p50',
      'gw − direct p99',
      'gw − bare p50',
      'gw − bare p99',
      'bare − direct p50',
      'req/s gw / bare',
      'header p50',
      'header p99',
    ],
    rows: CONNECTIONS.map((c) => {
      const f = figures(a, 'gateway', c);
      return [
        String(c),
        added(d('gateway', 'direct', c, p50)),
        added(d('gateway', 'direct', c, p99)),
        added(d('gateway', 'bare', c, p50)),
        added(d('gateway', 'bare', c, p99)),
        added(d('bare', 'direct', c, p50)),
        times2(pairedRatio(a, 'gateway', 'bare', c, rps)),
        fine(f.headerP50),
        fine(f.headerP99),
      ];
    }),
    notes: [
      `header: the gateway's own time per request, its ${OVERHEAD_HEADER} response header (every 2xx response of the measured runs).`,
      ...targets(a),
      'Published independent figures for added latency on a local mock (not measured here): Portkey OSS (TypeScript) ~2.4 ms,',
      `LiteLLM ~4.3 ms, Bifrost (Go) ~0.5 ms; aim: below 1 ms p50 at 1 connection. Here: gateway − direct p50 at 1 connection ${added(d('gateway', 'direct', 1, p50))}` +
        (b.length > 0
          ? `, LiteLLM − direct ${added(pairedDelta(b, 'litellm', 'direct', 1, p50))} (b).`
          : '.'),
    ],
  };

  const tableC: Table = {
    title: `(c) lookup cost: the gateway with ${count(KEYS)} keys in its routing config vs 1 key; median of ${ROUNDS} rounds, in (a)'s`,
    header: [
      '',
      'p50',
      'p99',
      'req/s',
      'req/s / 1 key',
      'proxy CPU/req',
      'header p50',
      'header p99',
    ],
    rows: KEYS_CONNECTIONS.flatMap((c) => {
      const row = (id: string, label: string) => {
        const f = figures(a, id, c);
        return [
          `  ${label}`,
          fine(f.p50),
          fine(f.p99),
          count(f.rps),
          id === 'gateway' ? '' : times2(pairedRatio(a, id, 'gateway', c, rps)),
          us(f.proxyCpuUs),
          fine(f.headerP50),
          fine(f.headerP99),
        ];
      };
      return [
        [plural(c)],
        row('gateway', '1 key'),
        row('gateway-many', `${count(KEYS)} keys, asked with the same key`),
        row('gateway-spread', `${count(KEYS)} keys, requests spread over all`),
      ];
    }),
    notes: [
      `Both gateways serve from one Redis (prefixes ${PREFIX_ONE}, ${PREFIX_MANY}); the ${count(KEYS)}-key one answers both of its rows, so after the spread`,
      'warm-up its policy cache holds every key; spread: each connection cycles through its share of the keys, one rate-limit counter set per key.',
    ],
  };

  const tables = [tableA];
  if (baseline) tables.push(baselineTable(a, baseline));
  if (QUICK) return tables;
  tables.push(tableA2, tableC);
  if (!litellm) {
    tables.push({
      title: '(b) gateway vs the real LiteLLM proxy: NOT MEASURED',
      header: ['why'],
      rows: [[litellmMissing ?? 'not run']],
    });
    return tables;
  }
  tables.push({
    title: `(b) gateway vs the real LiteLLM proxy ${litellm.version} (PyPI, no database, its defaults: one worker), same upstream; median of ${ROUNDS} rounds`,
    header: [...header.slice(0, 7), 'added p50', 'bad'],
    rows: LITELLM_CONNECTIONS.flatMap((c) => {
      const row = (id: string, label: string) => {
        const r = perCase(b, id, label, c);
        const addedP50 = id === 'direct' ? '' : added(pairedDelta(b, id, 'direct', c, p50));
        return [...r.slice(0, 7), addedP50, r[7]!];
      };
      return [
        [plural(c)],
        row('direct', 'direct to upstream'),
        row('gateway', 'gateway (virtual key, limits)'),
        row('litellm', 'LiteLLM (master key)'),
        ['  req/s gateway / LiteLLM', '', '', times2(pairedRatio(b, 'gateway', 'litellm', c, rps))],
      ];
    }),
    notes: [
      'LiteLLM without a database cannot check virtual keys: it runs with its master key (no key lookup, no rate limits); the gateway does both.',
      `LiteLLM started in ${ms(litellm.startupMs)}; added p50 = case − direct, paired round by round; proxy CPU/req for LiteLLM: its Python process.`,
    ],
  });
  return tables;
}

/** This build against the baseline build: the issue's budget is on req/s at 16 connections. */
function baselineTable(a: Measurement[], baseline: BaselineBuild): Table {
  return {
    title: `(a, baseline) this build / the baseline build ${baseline.describe}; paired round by round, median over rounds`,
    header: [
      'connections',
      'req/s new',
      'req/s base',
      'req/s new / base',
      'quiet rounds only',
      'p50 new / base',
      'p99 new / base',
      'header p50 new / base',
      'header p99 new / base',
      'proxy CPU/req new / base',
      'all CPU/req new / base',
    ],
    rows: CONNECTIONS.map((c) => {
      const r = baselineRatios(a, c);
      return [
        String(c),
        count(figures(a, 'gateway', c).rps),
        count(figures(a, 'gateway-baseline', c).rps),
        times2(r.rps),
        `${times2(r.rpsQuiet)} (${r.quietRounds} of ${ROUNDS})`,
        times2(r.p50),
        times2(r.p99),
        times2(r.headerP50),
        times2(r.headerP99),
        times2(r.proxyCpu),
        times2(r.allCpu),
      ];
    }),
    notes: [
      `Both gateways run side by side on the same upstream and Redis, with the same key and limits (prefixes ${PREFIX_ONE}, ${PREFIX_BASELINE}), measured in the same rounds;`,
      `baseline: ${baseline.module}. quiet rounds only: the req/s ratio over the rounds in which other processes used ≤ ${BUSY_LIMIT} cores during both builds' runs.`,
      `header: each build's own ${OVERHEAD_HEADER}. CPU/req (as in (a)) moves less than req/s when neighbours take cores: on a busy machine, read it beside req/s.`,
      `Budget: the new build keeps ≥ ${BASELINE_BUDGET.toFixed(2)}× the baseline's req/s:`,
      ...CONNECTIONS.map((c) => {
        const r = baselineRatios(a, c).rps;
        const cost = (1 - r) * 100;
        return `  ${c} connection${c > 1 ? 's' : ''}: ${verdict(r >= BASELINE_BUDGET)} (${times2(r)}, ${Number.isFinite(cost) ? `${Math.abs(cost).toFixed(1)} % ${cost >= 0 ? 'less' : 'more'} throughput` : '–'})`;
      }),
    ],
  };
}

function times2(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '–';
}

/** The issue's targets at every concurrency: ≤ 0.3 ms p50 / ≤ 2 ms p99 over bare, ≥ 0.8× its req/s. */
function targets(a: Measurement[]): string[] {
  return [
    'targets over the bare pass-through: ≤ 0.3 ms p50, ≤ 2 ms p99 added, ≥ 0.8× its req/s:',
    ...CONNECTIONS.map((c) => {
      const p50 = pairedDelta(a, 'gateway', 'bare', c, (m) => m.p50);
      const p99 = pairedDelta(a, 'gateway', 'bare', c, (m) => m.p99);
      const r = pairedRatio(a, 'gateway', 'bare', c, (m) => m.rps);
      return `  ${c} connection${c > 1 ? 's' : ''}: p50 ${verdict(p50 <= 0.3)} (${added(p50)}), p99 ${verdict(p99 <= 2)} (${added(p99)}), req/s ${verdict(r >= 0.8)} (${times2(r)})`;
    }),
  ];
}

// ---- instructions mode --------------------------------------------------------------

interface Counted {
  build: string;
  module: string;
  /** Instructions in each step: the first INSTRUCTION_REQUESTS[0] requests, then up to each next count. */
  steps: { requests: number; instructions: number }[];
  /** (I(last count) − I(first count)) / (last − first): fixed costs cancel. */
  perRequest: number;
  /** Self instructions per request by function, over the steps after the first. */
  functions: Record<string, number>;
  dumps: string[];
}

/**
 * Each build in turn under callgrind (support/callgrind.ts), alone on the machine's bed (the
 * same Redis, upstream, key and limits as (a)): warmed up with INSTRUCTION_WARMUP requests
 * uncounted, then counted over INSTRUCTION_REQUESTS (cumulative counts, e.g. 500 and 2,500:
 * the difference cancels what a dump and the toggle cost), at INSTRUCTION_CONNECTIONS.
 */
async function instructionsMain(
  machine: ReturnType<typeof machineInfo>,
  startedAt: string,
  baseline: BaselineBuild | undefined,
) {
  if (!(await callgrindAvailable())) {
    console.error(`${NAME} --instructions needs valgrind (callgrind_control) on PATH`);
    return 2;
  }
  const counts = [...INSTRUCTION_REQUESTS].sort((a, b) => a - b);
  if (counts.length < 2) {
    console.error('BENCH_INSTRUCTIONS_REQUESTS needs two request counts or more, e.g. 500,2500');
    return 2;
  }
  const outDir = join(ROOT, '.bench/instructions');
  await mkdir(outDir, { recursive: true });
  console.log(
    `${NAME} --instructions: instructions per request under callgrind, after ${count(INSTRUCTION_WARMUP)} warm-up requests, counted at ${counts.map(count).join(' and ')} requests, ${INSTRUCTION_CONNECTIONS} connections`,
  );
  const builds = [
    { build: 'gateway', module: gatewayModule, prefix: PREFIX_ONE },
    ...(baseline
      ? [
          {
            build: `baseline ${baseline.describe}`,
            module: baseline.module,
            prefix: PREFIX_BASELINE,
          },
        ]
      : []),
  ];
  const bed = await startBed();
  let failed = true;
  const results: Counted[] = [];
  try {
    for (const b of builds) await publish(bed.publishRedis, b.prefix, bed.key, 1);
    for (const [i, b] of builds.entries()) {
      const stamp = startedAt.replace(/[:.]/g, '-');
      const outFile = join(outDir, `${i === 0 ? 'gateway' : 'baseline'}-${stamp}.callgrind`);
      const started = performance.now();
      const env: Record<string, string> = {
        ...gatewayEnv(bed, b.prefix),
        BENCH_GATEWAY_MODULE: b.module,
      };
      // The server's HOST names its vgdb pipes (support/callgrind.ts).
      const names = { HOST: env.HOST! };
      const server = await startNodeServer({
        name: `${i === 0 ? 'gateway' : 'baseline'}-callgrind`,
        kind: 'gateway',
        dir: bed.dir,
        env,
        wrapper: callgrindWrapper(outFile),
        timeoutMs: 900_000,
      });
      try {
        console.log(`${b.build}: ready under callgrind in ${ms(performance.now() - started)}`);
        const t = target(b.build, server.url, bed.key, true);
        await smoke([{ id: b.build, label: b.build, target: t, server }]);
        // Under callgrind a request takes tens of times as long: no timeout may cut one off
        // (its work would count with no response to count it by).
        const load = async (amount: number, tolerant = false) => {
          const r = await runLoad(t, {
            connections: INSTRUCTION_CONNECTIONS,
            durationSeconds: 3_600,
            amount,
            timeoutSeconds: 900,
          });
          if (tolerant) return;
          if (r.non2xx + r.errors + r.mismatches > 0 || r.latency.n !== amount) {
            throw new Error(
              `${b.build}: ${r.latency.n} of ${amount} requests answered 2xx (${JSON.stringify(r.statuses)}, ${r.errors} errors, ${r.mismatches} mismatches)`,
            );
          }
        };
        console.log(`  smoke request answered; warming up (${count(INSTRUCTION_WARMUP)} requests)`);
        await load(INSTRUCTION_WARMUP, true);
        await instrument(server.pid, true, names);
        console.log('  warm; counting');
        const steps: Counted['steps'] = [];
        const dumps: string[] = [];
        let done = 0;
        for (const n of counts) {
          await load(n - done);
          const dump = await dumpInstructions(server.pid, outFile, names);
          steps.push({ requests: n - done, instructions: dump.instructions });
          dumps.push(dump.file);
          done = n;
          console.log(
            `  ${count(n)} requests: ${count(dump.instructions)} instructions since the last count (${count(dump.instructions / steps.at(-1)!.requests)} per request)`,
          );
        }
        const later = steps.slice(1);
        const perRequest =
          later.reduce((t, s) => t + s.instructions, 0) / later.reduce((t, s) => t + s.requests, 0);
        const functions = await selfByFunction(dumps.slice(1), counts.at(-1)! - counts[0]!);
        results.push({ build: b.build, module: b.module, steps, perRequest, functions, dumps });
      } finally {
        await server.stop();
      }
    }
    console.log(`\n${renderTable(instructionsTable(results, counts))}`);
    if (results.length === 2) console.log(`\n${renderTable(functionDiff(results))}`);
    console.log(`\n${NAME} --instructions — ${startedAt} — ${describeMachine(machine)}`);
    const path = await writeJson(`${NAME}-instructions`, {
      bench: `${NAME}-instructions`,
      startedAt,
      machine,
      settings: {
        warmup: INSTRUCTION_WARMUP,
        requests: counts,
        connections: INSTRUCTION_CONNECTIONS,
      },
      results,
    });
    console.log(`wrote ${path}; dumps (callgrind_annotate <file>): ${outDir}`);
    failed = false;
    return 0;
  } finally {
    await stopBed(bed, failed);
    if (failed) console.error(`server logs kept in ${bed.dir}`);
  }
}

function instructionsTable(results: Counted[], counts: number[]): Table {
  const base = results[1];
  return {
    title: `instructions per request under callgrind (all threads of the gateway process; ${INSTRUCTION_CONNECTIONS} connections)`,
    header: [
      'build',
      ...counts.map((n, i) =>
        i === 0 ? `first ${count(n)}` : `${count(counts[i - 1]!)}→${count(n)}`,
      ),
      `per request (${count(counts.at(-1)! - counts[0]!)} requests)`,
      ...(base ? ['new / base'] : []),
      'without GC',
      ...(base ? ['new / base'] : []),
    ],
    rows: results.map((r) => [
      r.build,
      ...r.steps.map((s) => count(s.instructions / s.requests)),
      count(r.perRequest),
      ...(base ? [times2(r.perRequest / base.perRequest)] : []),
      count(nonGc(r)),
      ...(base ? [times2(nonGc(r) / nonGc(base))] : []),
    ]),
    notes: [
      'per request = instructions counted after the first count / the requests after it: start-up, warm-up and the first',
      "dump's fixed costs cancel. Counts do not move with CPU steal or neighbours; JIT code shows as unnamed addresses.",
      'without GC: less V8 heap work (marking, scavenging, sweeping), which comes in bursts and so lands in one window or the',
      'next: over a few hundred requests it moves the total by several %, the rest much less.',
    ],
  };
}

/** V8's garbage collector's own functions (by name), as far as callgrind names them. */
const GC_FUNCTION =
  /Marking|Sweep|Scaveng|Evacuat|heap::|IteratePointers|BodyDescriptor|MarkCompact|Worklist|SizeFromMap/;

/** Instructions per request outside the garbage collector. */
function nonGc(r: Counted): number {
  let gc = 0;
  for (const [name, n] of Object.entries(r.functions)) if (GC_FUNCTION.test(name)) gc += n;
  return r.perRequest - gc;
}

/** Where the new build executes more instructions per request than the baseline, by function. */
function functionDiff(results: Counted[]): Table {
  const [gw, base] = results as [Counted, Counted];
  const names = [...new Set([...Object.keys(gw.functions), ...Object.keys(base.functions)])];
  const rows = names
    .map((name) => ({ name, g: gw.functions[name] ?? 0, b: base.functions[name] ?? 0 }))
    .sort((x, y) => Math.abs(y.g - y.b) - Math.abs(x.g - x.b));
  return {
    title:
      'self instructions per request by function, this build against the baseline (largest differences)',
    header: ['function', 'new', 'base', 'new − base'],
    rows: rows.slice(0, 30).map((r) => [r.name, count(r.g), count(r.b), count(r.g - r.b)]),
    notes: [
      '"JIT code": optimised JavaScript (no symbols under callgrind); Builtins_*: V8 builtins.',
    ],
  };
}

/** Self instructions per request by function over `dumps` (callgrind_annotate). */
async function selfByFunction(dumps: string[], requests: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const file of dumps) {
    for (const [name, n] of Object.entries(await annotate(file))) {
      out[name] = (out[name] ?? 0) + n / requests;
    }
  }
  return out;
}

async function profileMain(machine: ReturnType<typeof machineInfo>, startedAt: string) {
  const profileDir = join(ROOT, '.bench/profiles');
  await mkdir(profileDir, { recursive: true });
  console.log(
    `${NAME} --profile: ${PROFILE.join(', ')} under ${PROFILE_CONNECTIONS} connections for ${PROFILE_SECONDS} s each (figures under a profiler are not the bench's)`,
  );
  const bed = await startBed();
  let failed = true;
  const results: Record<string, Profiled> = {};
  try {
    await publish(bed.publishRedis, PREFIX_ONE, bed.key, 1);
    for (const kind of PROFILE) {
      const stamp = startedAt.replace(/[:.]/g, '-');
      const name = `${kind}-${stamp}.cpuprofile`;
      const server = await startNodeServer({
        name: `${kind}-profiled`,
        kind,
        dir: bed.dir,
        env:
          kind === 'gateway'
            ? { ...gatewayEnv(bed, PREFIX_ONE), BENCH_GATEWAY_MODULE: gatewayModule }
            : { UPSTREAM_URL: bed.procs.upstream.url },
        nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', name],
      });
      const c: Case = {
        id: kind,
        label: kind,
        target: target(kind, server.url, bed.key, kind === 'gateway'),
        server,
      };
      let stopped = false;
      try {
        await smoke([c]);
        await runLoad(c.target, { connections: PROFILE_CONNECTIONS, durationSeconds: 2 });
        // The load window, on the clock V8 stamps samples with (CLOCK_MONOTONIC, µs).
        const from = Number(process.hrtime.bigint() / 1000n);
        const before = await cpuSnapshot(c, bed.procs);
        const machineBefore = await machineCpu();
        const load = await runLoad(c.target, {
          connections: PROFILE_CONNECTIONS,
          durationSeconds: PROFILE_REQUESTS > 0 ? 3_600 : PROFILE_SECONDS,
          ...(PROFILE_REQUESTS > 0 ? { amount: PROFILE_REQUESTS } : {}),
        });
        const machineAfter = await machineCpu();
        const after = await cpuSnapshot(c, bed.procs);
        const to = Number(process.hrtime.bigint() / 1000n);
        await server.stop();
        stopped = true;
        const file = join(profileDir, name);
        const summary = await summarizeProfile(file, ROOT, 25, { from, to });
        const cores = Object.fromEntries(
          Object.keys(after).map((k) => [k, (after[k]! - before[k]!) / (load.elapsedMs / 1000)]),
        );
        cores.machine =
          ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) *
          machine.cpus;
        results[kind] = { ...summary, rps: load.rps, requests: load.latency.n, cores };
        printProfile(kind, results[kind], load);
      } finally {
        if (!stopped) await server.stop();
      }
    }
    if (results.gateway && results.bare) console.log(`\n${renderTable(profileDiff(results))}`);
    console.log(`\n${NAME} --profile — ${startedAt} — ${describeMachine(machine)}`);
    const path = await writeJson(`${NAME}-profile`, {
      bench: `${NAME}-profile`,
      startedAt,
      machine,
      settings: { seconds: PROFILE_SECONDS, connections: PROFILE_CONNECTIONS, gatewayModule },
      results,
    });
    console.log(`wrote ${path}; profiles (open in Chrome DevTools): ${profileDir}`);
    await pruneProfiles(profileDir);
    failed = false;
    return 0;
  } finally {
    await stopBed(bed, failed);
    if (failed) console.error(`server logs kept in ${bed.dir}`);
  }
}

type Profiled = ProfileSummary & { rps: number; requests: number; cores: Record<string, number> };

/** Self time per request by place, gateway against bare: where the gateway's extra CPU goes. */
function profileDiff(results: Record<string, Profiled>): Table {
  const gw = results.gateway!;
  const bare = results.bare!;
  const perRequest = (p: Profiled, place: string) =>
    ((p.allPlaces[place] ?? 0) * 1000) / p.requests;
  const places = [...new Set([...Object.keys(gw.allPlaces), ...Object.keys(bare.allPlaces)])];
  const rows = places
    .map((place) => ({ place, g: perRequest(gw, place), b: perRequest(bare, place) }))
    .sort((x, y) => y.g - y.b - (x.g - x.b));
  const busy = (p: Profiled) => (p.busyMs * 1000) / p.requests;
  return {
    title:
      'where the gateway spends more than the bare pass-through: main-thread self time per request, by place',
    header: ['place', 'gateway', 'bare', 'gateway − bare'],
    rows: [
      ['all (busy time / 2xx responses)', us(busy(gw)), us(busy(bare)), us(busy(gw) - busy(bare))],
      ...rows.slice(0, 20).map((r) => [r.place, us(r.g), us(r.b), us(r.g - r.b)]),
    ],
    notes: [
      'Both under the same load; per request = self time in the load window / 2xx responses in it. writev: socket writes (clients, upstream, Redis).',
    ],
  };
}

function printProfile(kind: string, s: Profiled, load: LoadResult) {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const cores = Object.entries(s.cores)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
  console.log(
    `\n${kind}: ${count(load.rps)} req/s, p50 ${fine(load.latency.p50)}, p99 ${fine(load.latency.p99)}; cores busy: ${cores}`,
  );
  console.log(
    `profile ${s.file}${s.window ? '' : ' (whole process: the load window could not be matched)'}: ${ms(s.totalMs)} sampled, ${ms(s.busyMs)} busy (${pct(s.busyMs / s.totalMs)}), ${ms(s.idleMs)} idle; ${us((s.busyMs * 1000) / s.requests)} busy per 2xx response (${count(s.requests)})`,
  );
  console.log(
    renderTable({
      title: `top self time by function (share of busy time)`,
      header: ['function', 'where', 'self', 'share'],
      rows: s.functions.map((f) => [f.name, f.where, ms(f.ms), pct(f.share)]),
    }),
  );
  console.log(
    renderTable({
      title: `self time by place`,
      header: ['place', 'self', 'share'],
      rows: s.places.map((p) => [p.name, ms(p.ms), pct(p.share)]),
    }),
  );
}

/** Keeps the newest 20 profiles. */
async function pruneProfiles(dir: string) {
  const files = await Promise.all(
    (await readdir(dir))
      .filter((f) => f.endsWith('.cpuprofile'))
      .map(async (f) => ({ f, at: (await stat(join(dir, f))).mtimeMs })),
  );
  files.sort((x, y) => x.at - y.at);
  for (const { f } of files.slice(0, -20)) await rm(join(dir, f), { force: true });
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`${NAME} failed:`, err);
  process.exitCode = 1;
}
process.exit();
