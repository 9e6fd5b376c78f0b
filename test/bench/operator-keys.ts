// Benchmark (not a test: no thresholds) of the operator's VirtualKeys, against baselines
// measured side by side in the same run, on the real test bed: kube-apiserver + etcd and
// Redis (test/harness) and the LiteLLM test server in this process, and the operator in a
// process of its own, started as a pod runs it (`node operator/src/main.ts`, configured by
// its environment: support/operator-process.ts), so it shares its event loop, heap and
// connection pools with neither.
//
//   (a) apply → usable, one key at a time: create a VirtualKey, wait until its Secret exists,
//       its LiteLLM key is registered and it is Ready=True. Interleaved with the baselines,
//       sample by sample: a ConfigMap create → its watch event (the API server's own floor)
//       and a Team create → Ready=True (the operator's simplest LiteLLM round trip).
//   (b) KEYS keys created at once in one namespace (CONCURRENCY creates in flight) → all
//       usable; baseline: as many ConfigMaps the same way → all seen by a watch.
//   (c) the next periodic resync of every converged key (RESYNC_INTERVAL of the operator,
//       waited for): what it costs in LiteLLM calls, API-server reads and writes and Redis
//       writes (all expected to be 0 writes).
//
// Times are taken by the bench's own watches (the operator's Informer class, on a client of
// the bench's own that reuses its connections: support/kube.ts), never by polling. Costs are
// counted at the servers: the API server's /metrics, Redis's INFO, the LiteLLM test server's
// call counts and connections, a TCP pass-through in front of the API server that counts the
// operator's connections (support/tcp-counter.ts); the operator's own figures come from its
// /metrics, /proc and a probe preloaded into it (support/operator-probe.ts). Prints tables;
// writes .bench/operator-keys.json.
//
//   npm run bench -- operator-keys             (10,000 keys, resync interval 5 min)
//   npm run bench -- operator-keys --quick     (1,000 keys, 20 one at a time, resync 1 min)
//   BENCH_KEYS=2000 BENCH_SEQUENTIAL=20 BENCH_CONCURRENCY=32 BENCH_RESYNC_S=90 \
//     node test/bench/operator-keys.ts
//   BENCH_OPERATOR_MAIN=/path/to/other/operator/src/main.ts …   (another build, same bench)
//   BENCH_OPERATOR_HEAP_MIB=0 …   (V8 sizes the operator's heap for this host, not for a pod)
//   BENCH_OPERATOR_NODE_FLAGS='--trace-gc' …   (more Node flags for the operator)
//   BENCH_OPERATOR_CHART_FLAGS=0 …   (without the chart's --optimize-for-size)
//   BENCH_OPERATOR_ENV='MALLOC_ARENA_MAX=8' …   (more environment for the operator)
//   npm run bench -- operator-keys --profile   (the operator under --cpu-prof: its top
//     functions and places during (b), from .bench/profiles/; also BENCH_OPERATOR_PROFILE=1)
//
// (c) must see the resync alone: the spend sync (every BENCH_SPEND_S, default 60 s) writes every new key's status.spend on its first pass after (b), so (c)
// waits for a spend pass that began after (b) settled, and counts every VirtualKey write by
// its field manager (support/field-managers.ts), so what writes is named, whichever loop.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import {
  CoreV1Api,
  type KubeConfig,
  type V1ConfigMap,
  type V1Secret,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import type { ModelSubscription, Team, VirtualKey } from '../../crds/api/index.ts';
import { routingKeys } from '../../contracts/routing/redis-layout.ts';
import { TEAM_TARGET } from '../../operator/src/controllers/shared/kinds.ts';
import { VIRTUAL_KEY_CONTROLLER } from '../../operator/src/controllers/virtual-key/controller.ts';
import {
  KEY_SECRET_TARGET,
  VIRTUAL_KEY_TARGET,
} from '../../operator/src/controllers/virtual-key/targets.ts';
import { hashKey } from '../../operator/src/litellm/hash.ts';
import { getCondition } from '../../operator/src/runtime/conditions.ts';
import type { InformerTarget } from '../../operator/src/runtime/informer-factory.ts';
import { Informer, kubeListWatcher } from '../../operator/src/runtime/informer.ts';
import type { KubeObject } from '../../operator/src/runtime/object.ts';
import type { TestBed } from '../harness/test-bed.ts';
import { KeyObjects, secretKey } from '../integration/support/key-operator.ts';
import { start as startLiteLLM, type LiteLLMTestServer } from '../litellm-server/server.ts';
import type { CallSnapshot } from '../litellm-server/calls.ts';
import { Arrivals, forEachLimit } from './support/arrivals.ts';
import { summarizeProfile, type ProfileSummary } from './support/cpu-profile.ts';
import { WritesByManager } from './support/field-managers.ts';
import { BedUnavailableError, startBenchBed } from './support/bed.ts';
import { pooledKubeConfig } from './support/kube.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import type { OperatorProbe } from './support/operator-probe.ts';
import { startOperatorProcess, type OperatorProcess } from './support/operator-process.ts';
import {
  apiServerRequests,
  counterDelta,
  cpuDelta,
  cpuSeconds,
  redisCommandStats,
  type CpuSeconds,
} from './support/probes.ts';
import { sumOf, type Sample } from './support/prom-text.ts';
import { count, mib, ms, renderTable, times, writeJson, type Table } from './support/report.ts';
import { ratio, summarize, type Summary } from './support/stats.ts';
import { startTcpCounter, type TcpCounter } from './support/tcp-counter.ts';

const NAME = 'operator-keys';
const QUICK = process.argv.includes('--quick');
const SEQUENTIAL = intFromEnv('BENCH_SEQUENTIAL', QUICK ? 20 : 100);
const KEYS = intFromEnv('BENCH_KEYS', intFromEnv('BENCH_BULK', QUICK ? 1_000 : 10_000));
const CONCURRENCY = intFromEnv('BENCH_CONCURRENCY', 32);
const WARMUP = 5;
/** The operator's resync interval: (c) waits for it, so no resync fires during (a) or (b). */
const RESYNC_MS = intFromEnv('BENCH_RESYNC_S', QUICK ? 60 : 300) * 1000;
/** The spend sync's interval (the operator's default); (c) waits out its first pass after (b). */
const SPEND_MS = intFromEnv('BENCH_SPEND_S', 60) * 1000;
const PROFILE = process.argv.includes('--profile') || process.env.BENCH_OPERATOR_PROFILE === '1';
/**
 * The operator's V8 heap as in a pod: V8 sizes its heap from the memory it sees, which is the
 * container's limit in a pod (the chart's 512 MiB: node 24 in a 512 MiB memory cgroup gets a
 * 259 MiB heap limit and a 2 MiB young generation) but this host's RAM here (24 GiB: a 4 GiB
 * limit, and a young generation that grows past 100 MiB, all of it resident). --max-heap-size
 * gives it the pod's sizing; BENCH_OPERATOR_HEAP_MIB=0 leaves V8 to size for the host.
 */
const OPERATOR_HEAP_MIB = Number(process.env.BENCH_OPERATOR_HEAP_MIB ?? 259);
/**
 * Node's flags for the operator: the chart's (operator-deployment.yaml runs it with
 * --optimize-for-size; BENCH_OPERATOR_CHART_FLAGS=0 leaves them out, to see what they do), the
 * pod's heap sizing, then BENCH_OPERATOR_NODE_FLAGS, space-separated.
 */
const CHART_NODE_FLAGS =
  process.env.BENCH_OPERATOR_CHART_FLAGS === '0' ? [] : ['--optimize-for-size'];
const OPERATOR_NODE_FLAGS = [
  ...CHART_NODE_FLAGS,
  ...(OPERATOR_HEAP_MIB > 0 ? [`--max-heap-size=${OPERATOR_HEAP_MIB}`] : []),
  ...(process.env.BENCH_OPERATOR_NODE_FLAGS ?? '').split(' ').filter(Boolean),
];
/**
 * The operator's environment beyond its configuration: as the image sets it (Containerfile:
 * MALLOC_ARENA_MAX=2), then BENCH_OPERATOR_ENV, `NAME=value` space-separated
 * (BENCH_OPERATOR_ENV=MALLOC_ARENA_MAX=8 for glibc's default on 2 CPUs).
 */
const OPERATOR_ENV: Record<string, string> = {
  MALLOC_ARENA_MAX: '2',
  ...Object.fromEntries(
    (process.env.BENCH_OPERATOR_ENV ?? '')
      .split(' ')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  ),
};
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROFILE_DIR = fileURLToPath(new URL('../../.bench/profiles/', import.meta.url));
const MODEL = 'granite-3-8b';
const MASTER_KEY = 'sk-bench-master-key';
const WAIT_ONE_MS = 60_000;
const WAIT_BULK_MS = 20 * 60_000;
const BENCH_LABEL = 'llmtenancy.dev/bench-run';
/** The issue's targets (#12), printed next to the figures: never asserted. */
const TARGET_KEYS_PER_SECOND = 167;
const TARGET_RSS_BYTES = 300 * 1024 * 1024;
const TARGET_TLS_PER_REQUEST = 0.01;
const TARGET_FLOOR_RATIO = 3;

function intFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

type WithConditions = KubeObject & {
  metadata: { generation?: number };
  status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] };
};

/** Ready=True for the current generation. */
function isReady(object: WithConditions): boolean {
  const ready = getCondition(object.status?.conditions as never, 'Ready');
  if (ready?.status !== 'True') return false;
  return (
    ready.observedGeneration === undefined ||
    ready.observedGeneration === object.metadata.generation
  );
}

const sleep = (msToWait: number) => new Promise((resolve) => setTimeout(resolve, msToWait));

async function pollUntil<T>(
  what: string,
  read: () => Promise<T | undefined>,
  timeoutMs = WAIT_ONE_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

function startWatch<T extends KubeObject>(kc: KubeConfig, target: InformerTarget): Informer<T> {
  const informer = new Informer<T>({
    listWatcher: kubeListWatcher<T>(kc, target, target),
    description: `bench ${target.kind}`,
  });
  informer.start();
  return informer;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** This process's memory after a collection (the LiteLLM test server and the bench). */
function benchMemory() {
  gc();
  return process.memoryUsage();
}

/** The operator's counters (its /metrics), flattened for deltas. */
function operatorCounters(samples: readonly Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  const vk = (s: Sample) => s.labels.controller === VIRTUAL_KEY_CONTROLLER;
  for (const s of samples) {
    let key: string | undefined;
    if (s.name === 'controller_runtime_reconcile_total' && vk(s))
      key = `reconciles ${s.labels.result}`;
    else if (s.name === 'controller_runtime_reconcile_errors_total' && vk(s))
      key = 'reconcile errors';
    else if (s.name === 'controller_runtime_reconcile_time_seconds_sum' && vk(s))
      key = 'reconcile seconds_sum';
    else if (s.name === 'controller_runtime_reconcile_time_seconds_count' && vk(s))
      key = 'reconcile seconds_count';
    else if (s.name === 'llmtenancy_routing_writes_total') key = `routing writes ${s.labels.op}`;
    else if (s.name === 'llmtenancy_routing_skipped_total') key = `routing skipped ${s.labels.op}`;
    else if (s.name === 'llmtenancy_spend_sync_writes_total') key = `spend writes ${s.labels.kind}`;
    else if (s.name === 'llmtenancy_spend_sync_reads_total') key = 'spend passes';
    else if (s.name === 'llmtenancy_kube_requests_total') {
      const { verb, resource, subresource } = s.labels;
      key = `kube ${verb} ${resource}${subresource ? `/${subresource}` : ''}`;
    }
    if (key !== undefined) out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** The VirtualKey queue's depth and busy workers, from the operator's /metrics. */
async function keyQueue(op: OperatorProcess): Promise<{ depth: number; active: number }> {
  const samples = await op.metrics();
  return {
    depth: sumOf(samples, 'workqueue_depth', { name: VIRTUAL_KEY_CONTROLLER }),
    active: sumOf(samples, 'controller_runtime_active_workers', {
      controller: VIRTUAL_KEY_CONTROLLER,
    }),
  };
}

/** When the spend sync's last full pass ended (Unix ms; 0: none yet). */
async function spendPassEndedAt(op: OperatorProcess): Promise<number> {
  return sumOf(await op.metrics(), 'llmtenancy_spend_sync_last_success_timestamp_seconds') * 1000;
}

/**
 * Until a spend pass that began after now has ended: the spend sync's first pass over new keys
 * writes each one's status.spend, and that is not the resync's to count. Two pass ends after
 * now: the second pass began after the first ended.
 */
async function waitOutSpendPass(ctx: Context): Promise<void> {
  const deadline = Date.now() + SPEND_MS * 3 + WAIT_ONE_MS;
  const now = Date.now();
  let ends = 0;
  let last = await spendPassEndedAt(ctx.op);
  while (ends < 2) {
    if (Date.now() > deadline) throw new Error('the spend sync made no pass after (b)');
    await sleep(200);
    const ended = await spendPassEndedAt(ctx.op);
    if (ended > last && ended > now) ends++;
    last = ended;
  }
}

const sumMatching = (counters: Record<string, number>, prefix: string) =>
  Object.entries(counters)
    .filter(([k]) => k.startsWith(prefix))
    .reduce((total, [, v]) => total + v, 0);

function litellmDelta(before: CallSnapshot, after: CallSnapshot) {
  return {
    total: after.total - before.total,
    writes: after.writes - before.writes,
    byRoute: counterDelta(before.calls, after.calls),
  };
}

async function routingRevision(redis: Redis, prefix: string): Promise<number> {
  return Number((await redis.hget(routingKeys(prefix).meta, 'revision')) ?? 0);
}

const sumOfValues = (counters: Record<string, number>) =>
  Object.values(counters).reduce((t, v) => t + v, 0);

function topEntries(counters: Record<string, number>, n: number): string {
  const entries = Object.entries(counters).sort(([, a], [, b]) => b - a);
  const shown = entries.slice(0, n).map(([k, v]) => `${k} ${count(v)}`);
  if (entries.length > n) shown.push(`… ${entries.length - n} more`);
  return shown.join(', ') || 'none';
}

function cpuRows(delta: CpuSeconds, wallMs: number): string[][] {
  const names = ['operator', 'node', 'kube-apiserver', 'etcd', 'redis-server'];
  const label = (name: string) =>
    name === 'node'
      ? 'node (LiteLLM test server + bench)'
      : name === 'operator'
        ? 'operator (its own process)'
        : name;
  const others = Object.keys(delta).filter((n) => !names.includes(n));
  return [...names, ...others]
    .filter((name) => delta[name] !== undefined)
    .map((name) => {
      const seconds = delta[name]!;
      return [
        `  CPU ${label(name)}`,
        `${seconds.toFixed(1)} s`,
        `${((seconds / (wallMs / 1000)) * 100).toFixed(0)} % of a core`,
      ];
    });
}

/**
 * The LiteLLM test server's own figure: how long it took to answer (request → response
 * finished), summed, per route. It runs in this process, so what it spends is the bench's
 * event loop too: if LiteLLM's side limits, this and the bench process's load say so.
 */
class ServerTiming {
  count = 0;
  totalMs = 0;
  #started = new WeakMap<IncomingMessage, number>();

  constructor(server: Server) {
    server.on('request', (req, res) => {
      this.#started.set(req, performance.now());
      res.once('finish', () => {
        const started = this.#started.get(req);
        if (started === undefined) return;
        this.count++;
        this.totalMs += performance.now() - started;
      });
    });
  }

  snapshot() {
    return { count: this.count, totalMs: this.totalMs };
  }
}

// ---------------------------------------------------------------------------------------

interface Context {
  bed: TestBed;
  kc: KubeConfig;
  benchRequests: () => number;
  core: CoreV1Api;
  litellm: LiteLLMTestServer;
  litellmTiming: ServerTiming;
  litellmConnections: () => number;
  op: OperatorProcess;
  apiDoor: TcpCounter;
  objects: KeyObjects;
  redis: Redis;
  run: string;
  prefix: string;
  seqNs: string;
  bulkNs: string;
  floorNs: string;
  keyReady: Arrivals<VirtualKey>;
  keyFinalized: Arrivals<VirtualKey>;
  secretSeen: Arrivals<V1Secret & KubeObject>;
  configMapSeen: Arrivals<V1ConfigMap & KubeObject>;
  teamReady: Arrivals<Team>;
  /** resourceVersion changes of VirtualKeys / key Secrets seen by the bench's watches. */
  keyChanges: { count: number; last: number };
  /** The same changes, counted by the field manager(s) that wrote them. */
  keyWriters: WritesByManager;
  secretChanges: { count: number };
  /** LiteLLM key present when Ready=True was seen: key → true/false. */
  registeredAtReady: Map<string, boolean>;
  keyInformer: Informer<VirtualKey>;
  secretInformer: Informer<V1Secret & KubeObject>;
}

/** When a create call was issued and when it returned (performance.now()). */
interface Call {
  issued: number;
  returned: number;
}

async function timed(create: () => Promise<unknown>): Promise<Call> {
  const issued = performance.now();
  await create();
  return { issued, returned: performance.now() };
}

const createKey = (ctx: Context, namespace: string, name: string) =>
  timed(() => ctx.objects.key(namespace, name, {}));

const createConfigMap = (ctx: Context, name: string) =>
  timed(() =>
    ctx.core.createNamespacedConfigMap({
      namespace: ctx.floorNs,
      body: { metadata: { name, labels: { [BENCH_LABEL]: ctx.run } }, data: { payload: name } },
    }),
  );

/** Waits until namespace/name is usable; the later of its Secret and its Ready=True. */
async function usableAt(ctx: Context, key: string, timeoutMs: number) {
  const [ready, secret, finalized] = await Promise.all([
    ctx.keyReady.seen(key, timeoutMs, `VirtualKey ${key} Ready=True`),
    ctx.secretSeen.seen(key, timeoutMs, `Secret ${key}`),
    ctx.keyFinalized.seen(key, timeoutMs, `VirtualKey ${key} finalizer`),
  ]);
  return { usable: Math.max(ready, secret), ready, secret, finalized };
}

/** Everything counted at the servers and in the operator, for before/after deltas. */
async function counters(ctx: Context) {
  const [api, samples, cpu, redisRevision, redisCommands] = await Promise.all([
    apiServerRequests(ctx.kc),
    ctx.op.metrics(),
    cpuSeconds({ [ctx.op.pid]: 'operator' }),
    routingRevision(ctx.redis, ctx.prefix),
    redisCommandStats(ctx.redis),
  ]);
  return {
    at: performance.now(),
    api,
    benchRequests: ctx.benchRequests(),
    operator: operatorCounters(samples),
    cpu,
    litellm: ctx.litellm.calls.snapshot(),
    litellmTiming: ctx.litellmTiming.snapshot(),
    litellmConnections: ctx.litellmConnections(),
    apiConnections: ctx.apiDoor.connections(),
    routingRevision: redisRevision,
    redisCommands,
    keyChanges: ctx.keyChanges.count,
    keyWriters: ctx.keyWriters.snapshot(),
    secretChanges: ctx.secretChanges.count,
  };
}
type Counters = Awaited<ReturnType<typeof counters>>;

function costs(before: Counters, after: Counters) {
  const api = counterDelta(before.api, after.api);
  const apiTotal = Object.values(api).reduce((t, v) => t + v, 0);
  // The bench's own requests (creates, watches, /metrics) reach the same server.
  const operatorApiRequests = Math.max(0, apiTotal - (after.benchRequests - before.benchRequests));
  const operator = counterDelta(before.operator, after.operator);
  // What the operator counted itself sending (llmtenancy_kube_requests_total): reads are its
  // gets and lists (a watch is neither; an informer's relist is a list).
  const operatorKube = Object.fromEntries(
    Object.entries(operator)
      .filter(([k, n]) => k.startsWith('kube ') && n > 0)
      .map(([k, n]) => [k.slice('kube '.length), n]),
  );
  const operatorKubeReads = Object.fromEntries(
    Object.entries(operatorKube).filter(([k]) => /^(get|list|GET) /.test(k)),
  );
  const litellmCalls = after.litellmTiming.count - before.litellmTiming.count;
  return {
    wallMs: after.at - before.at,
    apiServerRequests: api,
    apiServerRequestsTotal: apiTotal,
    operatorApiRequests,
    operatorApiConnections: after.apiConnections - before.apiConnections,
    operator,
    operatorKube,
    operatorKubeReads,
    cpuSeconds: cpuDelta(before.cpu, after.cpu),
    litellm: litellmDelta(before.litellm, after.litellm),
    litellmConnections: after.litellmConnections - before.litellmConnections,
    litellmMeanResponseMs:
      litellmCalls > 0
        ? (after.litellmTiming.totalMs - before.litellmTiming.totalMs) / litellmCalls
        : 0,
    routingRevisionDelta: after.routingRevision - before.routingRevision,
    redisCommands: counterDelta(before.redisCommands, after.redisCommands, ['info']),
    virtualKeyResourceVersionChanges: after.keyChanges - before.keyChanges,
    virtualKeyWritesByManager: counterDelta(before.keyWriters, after.keyWriters),
    secretResourceVersionChanges: after.secretChanges - before.secretChanges,
  };
}

/** Until the VirtualKey queue is empty and idle, and no VirtualKey changed for quietMs. */
async function settle(ctx: Context, quietMs: number, timeoutMs = WAIT_BULK_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { depth, active } = await keyQueue(ctx.op);
    if (depth === 0 && active === 0 && performance.now() - ctx.keyChanges.last >= quietMs) return;
    if (Date.now() > deadline) throw new Error('the VirtualKey controller did not settle');
    await sleep(200);
  }
}

/** Now on the clock V8 stamps --cpu-prof samples with (CLOCK_MONOTONIC, µs), in any process. */
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

const eluBetween = (a: OperatorProbe, b: OperatorProbe) => {
  const active = b.elu.active - a.elu.active;
  const idle = b.elu.idle - a.elu.idle;
  return active + idle > 0 ? active / (active + idle) : 0;
};

// ---- (a) ------------------------------------------------------------------------------

async function sequential(ctx: Context) {
  const samples = {
    key: [] as number[],
    keyFromReturn: [] as number[],
    toFinalizer: [] as number[],
    toSecret: [] as number[],
    floor: [] as number[],
    floorFromReturn: [] as number[],
    team: [] as number[],
  };
  let floorEarly = 0;

  for (let i = -WARMUP; i < SEQUENTIAL; i++) {
    const warm = i < 0;
    const tag = warm ? `warm${-i}` : String(i).padStart(4, '0');

    // The API server's floor: a ConfigMap, until its watch event.
    const cm = `floor-${tag}`;
    const cmSeen = ctx.configMapSeen.seen(`${ctx.floorNs}/${cm}`, WAIT_ONE_MS);
    const cmCall = await createConfigMap(ctx, cm);
    const cmAt = await cmSeen;

    // A VirtualKey, until usable.
    const name = `seq-${tag}`;
    const keyCall = await createKey(ctx, ctx.seqNs, name);
    const at = await usableAt(ctx, `${ctx.seqNs}/${name}`, WAIT_ONE_MS);

    // A Team, until Ready.
    const teamName = `${ctx.run}-team-${tag}`;
    const teamSeen = ctx.teamReady.seen(teamName, WAIT_ONE_MS, `Team ${teamName} Ready=True`);
    const teamCall = await timed(() => ctx.objects.teams.create(teamName, { models: [MODEL] }));
    const teamAt = await teamSeen;

    if (warm) continue;
    if (cmAt < cmCall.returned) floorEarly++;
    samples.floor.push(cmAt - cmCall.issued);
    samples.floorFromReturn.push(Math.max(0, cmAt - cmCall.returned));
    samples.key.push(at.usable - keyCall.issued);
    samples.keyFromReturn.push(at.usable - keyCall.returned);
    samples.toFinalizer.push(at.finalized - keyCall.issued);
    samples.toSecret.push(at.secret - keyCall.issued);
    samples.team.push(teamAt - teamCall.issued);
  }
  const registered = [...ctx.registeredAtReady]
    .filter(([k]) => k.startsWith(`${ctx.seqNs}/seq-`) && !k.includes('warm'))
    .filter(([, ok]) => ok).length;
  return {
    samples: SEQUENTIAL,
    warmup: WARMUP,
    key: summarize(samples.key),
    keyFromReturn: summarize(samples.keyFromReturn),
    toFinalizer: summarize(samples.toFinalizer),
    toSecret: summarize(samples.toSecret),
    floor: summarize(samples.floor),
    floorFromReturn: summarize(samples.floorFromReturn),
    team: summarize(samples.team),
    floorEventsBeforeCreateReturned: floorEarly,
    litellmKeyPresentAtReady: registered,
    raw: samples,
  };
}

// ---- (b) ------------------------------------------------------------------------------

async function bulk(ctx: Context) {
  // Baseline: as many ConfigMaps, the same way.
  const cmStart = performance.now();
  const cmCalls: Call[] = [];
  const cmSeen = Array.from({ length: KEYS }, (_, i) =>
    ctx.configMapSeen.seen(`${ctx.floorNs}/bulk-${i}`, WAIT_BULK_MS),
  );
  await forEachLimit(KEYS, CONCURRENCY, async (i) => {
    cmCalls[i] = await createConfigMap(ctx, `bulk-${i}`);
  });
  const cmCreatesDone = performance.now();
  const cmTimes = await Promise.all(cmSeen);
  const cmAllSeen = Math.max(...cmTimes);
  const cmPer = cmTimes.map((t, i) => t - cmCalls[i]!.issued);
  await sleep(2_000); // let the API server settle before the keys

  // The keys.
  const probeBefore = await ctx.op.probe();
  const benchBefore = benchMemory();
  const before = await counters(ctx);
  const eluBefore = performance.eventLoopUtilization();
  let maxDepth = 0;
  let maxRss = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [queue, rss] = await Promise.all([keyQueue(ctx.op), ctx.op.rss()]).catch(
        () => [{ depth: 0, active: 0 }, 0] as const,
      );
      maxDepth = Math.max(maxDepth, queue.depth);
      maxRss = Math.max(maxRss, rss);
      await sleep(1_000);
    }
  })();

  const start = performance.now();
  const profileFrom = monotonicMicros();
  const keyCalls: Call[] = [];
  const waits = Array.from({ length: KEYS }, (_, i) =>
    usableAt(ctx, `${ctx.bulkNs}/bulk-${i}`, WAIT_BULK_MS),
  );
  await forEachLimit(KEYS, CONCURRENCY, async (i) => {
    keyCalls[i] = await createKey(ctx, ctx.bulkNs, `bulk-${i}`);
  });
  const createsDone = performance.now();
  const at = await Promise.all(waits);
  const converged = Math.max(...at.map((a) => a.usable));
  const profileTo = monotonicMicros();
  const benchElu = performance.eventLoopUtilization(eluBefore);
  const after = await counters(ctx);
  sampling = false;
  await sampler;
  const probeAfter = await ctx.op.probe();
  const benchAfter = benchMemory();
  // Work queued before the last key became usable still runs afterwards: count it too.
  const settleStart = performance.now();
  await settle(ctx, 1_000);
  const drained = costs(before, await counters(ctx));

  const ownedInLiteLLM = [...ctx.litellm.store.keys.values()].filter((k) =>
    String((k.metadata as Record<string, unknown>)['llmtenancy.dev/owner'] ?? '').startsWith(
      `VirtualKey/${ctx.bulkNs}/`,
    ),
  ).length;
  const registered = [...ctx.registeredAtReady]
    .filter(([k]) => k.startsWith(`${ctx.bulkNs}/`))
    .filter(([, ok]) => ok).length;

  return {
    keys: KEYS,
    concurrency: CONCURRENCY,
    keysCreatesDoneMs: createsDone - start,
    keysConvergedMs: converged - start,
    keysPerSecond: KEYS / ((converged - start) / 1000),
    perKey: summarize(at.map((a, i) => a.usable - keyCalls[i]!.issued)),
    configMapsCreatesDoneMs: cmCreatesDone - cmStart,
    configMapsAllSeenMs: cmAllSeen - cmStart,
    configMapsPerSecond: KEYS / ((cmAllSeen - cmStart) / 1000),
    perConfigMap: summarize(cmPer),
    costs: costs(before, after),
    drained: {
      afterMs: performance.now() - settleStart,
      litellm: drained.litellm,
      reconciles: sumMatching(drained.operator, 'reconciles '),
    },
    litellmKeysOwned: ownedInLiteLLM,
    litellmKeyPresentAtReady: registered,
    maxQueueDepth: maxDepth,
    operatorEventLoopUtilization: eluBetween(probeBefore, probeAfter),
    benchEventLoopUtilization: benchElu.utilization,
    operatorMemory: {
      before: probeBefore,
      after: probeAfter,
      peakRss: maxRss,
      resident: await ctx.op.residentMemory(),
    },
    profileWindow: { from: profileFrom, to: profileTo },
    benchMemory: { before: benchBefore, after: benchAfter },
  };
}

// ---- (c) ------------------------------------------------------------------------------

/**
 * The next periodic resync of every key, as it comes (each key RESYNC_INTERVAL + up to 10 %
 * after its last reconcile): counted from the queue going quiet after (b) until every key was
 * reconciled once more and the queue is quiet again. Nothing else changes meanwhile, so each
 * of those reconciles is a resync.
 */
async function resync(ctx: Context) {
  const keys = ctx.keyReady.size;
  await settle(ctx, 3_000);
  await waitOutSpendPass(ctx);
  await settle(ctx, 1_000);
  const probeBefore = await ctx.op.probe();
  const before = await counters(ctx);
  const reconciled = async () =>
    sumMatching(
      counterDelta(before.operator, operatorCounters(await ctx.op.metrics())),
      'reconciles ',
    );

  let first: number | undefined;
  let last = performance.now();
  const deadline = Date.now() + RESYNC_MS * 1.1 + WAIT_BULK_MS;
  for (let seen = 0; seen < keys;) {
    if (Date.now() > deadline)
      throw new Error(`the resync reconciled only ${seen} of ${keys} keys`);
    await sleep(200);
    const now = await reconciled();
    if (now > seen) {
      first ??= performance.now();
      last = performance.now();
    }
    seen = now;
  }
  await settle(ctx, 2_000); // anything the resync set off (status writes, events) arrives meanwhile
  const after = await counters(ctx);
  const probeAfter = await ctx.op.probe();
  const resyncMs = last - (first ?? last);
  const c = costs(before, after);
  const apiWrites = Object.fromEntries(
    // Writes, less kube-apiserver's renewals of its own identity Lease (the operator runs
    // without leader election here, so it writes no Lease).
    Object.entries(c.apiServerRequests).filter(
      ([k]) => /^(POST|PUT|PATCH|DELETE|APPLY) /.test(k) && k !== 'PUT leases',
    ),
  );
  const apiReads = Object.fromEntries(
    Object.entries(c.apiServerRequests).filter(([k]) => /^(GET|LIST) /.test(k)),
  );
  const litellmKeyReads =
    (c.litellm.byRoute['GET /key/info'] ?? 0) + (c.litellm.byRoute['GET /key/list'] ?? 0);
  // The spend sync lists every key each pass (every BENCH_SPEND_S) whatever the resync does,
  // in pages of 100; its listing also refreshes the resync's snapshot. What is left is what
  // the resync read itself.
  const spendPasses = c.operator['spend passes'] ?? 0;
  const spendKeyReads = spendPasses * Math.ceil(keys / 100);
  const resyncKeyReads = Math.max(0, litellmKeyReads - spendKeyReads);
  return {
    keys,
    resyncMs,
    windowMs: c.wallMs,
    keysPerSecond: resyncMs > 0 ? keys / (resyncMs / 1000) : Number.NaN,
    reconciles: sumMatching(c.operator, 'reconciles '),
    costs: c,
    keyInfoCalls: c.litellm.byRoute['GET /key/info'] ?? 0,
    keyListCalls: c.litellm.byRoute['GET /key/list'] ?? 0,
    litellmKeyReads,
    spendPasses,
    spendKeyReads,
    resyncKeyReads,
    apiServerWrites: apiWrites,
    apiServerReads: apiReads,
    operatorEventLoopUtilization: eluBetween(probeBefore, probeAfter),
    operatorMemory: probeAfter,
  };
}

// ---- the run ---------------------------------------------------------------------------

/** Every VirtualKey's Secret holds the key its status names, and LiteLLM has that key. */
function verify(ctx: Context, expected: number) {
  let ok = 0;
  const problems: string[] = [];
  for (const key of ctx.keyInformer.store.list()) {
    const id = `${key.metadata.namespace}/${key.metadata.name}`;
    const secret = ctx.secretInformer.store.getByName(
      key.status?.secretName ?? '',
      key.metadata.namespace,
    );
    try {
      const hash = hashKey(secretKey(secret));
      if (hash !== key.status?.keyId) throw new Error('Secret and status.keyId differ');
      if (!ctx.litellm.store.keys.has(hash)) throw new Error('not in LiteLLM');
      if (!isReady(key)) throw new Error('not Ready');
      ok++;
    } catch (err) {
      if (problems.length < 5) problems.push(`${id}: ${(err as Error).message}`);
    }
  }
  if (ok !== expected) {
    throw new Error(`only ${ok} of ${expected} keys verified usable: ${problems.join('; ')}`);
  }
  return ok;
}

async function main(): Promise<number> {
  const machine = machineInfo();
  const run = `bench-${randomBytes(3).toString('hex')}`;
  const startedAt = new Date().toISOString();
  console.log(`${NAME}: run ${run}\nmachine: ${describeMachine(machine)}\n`);

  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      await stop().catch((err: unknown) => console.error(`while stopping: ${String(err)}`));
    }
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error('interrupted: stopping…');
    void stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const setupStart = performance.now();
    const bed = await startBenchBed({ kube: {}, redis: {}, oidc: false });
    stops.push(() => bed.stop());
    // The bench's own calls go through one connection pool (support/kube.ts).
    const pooled = pooledKubeConfig(bed.kubeconfigYaml!);
    stops.push(() => pooled.close());
    const kc = pooled.kc;
    const litellm = await startLiteLLM({ masterKey: MASTER_KEY, models: [MODEL] });
    stops.push(() => litellm.stop());
    const litellmTiming = new ServerTiming(litellm.app.server);
    let litellmConnections = 0;
    litellm.app.server.on('connection', () => litellmConnections++);
    const redis = new Redis(bed.redisUrl!);
    stops.push(async () => redis.disconnect());

    const labels = { [BENCH_LABEL]: run };
    const objects = new KeyObjects(kc, labels);
    const prefix = `${run}:`;
    const seqNs = `${run}-seq`;
    const bulkNs = `${run}-bulk`;
    const floorNs = `${run}-floor`;
    for (const ns of [seqNs, bulkNs, floorNs]) await objects.namespace(ns);
    const teamName = `${run}-keys`;
    await objects.teams.create(teamName, { namespaces: [seqNs, bulkNs], models: [MODEL] });
    for (const ns of [seqNs, bulkNs]) await objects.subscription(ns, 'granite', { model: MODEL });

    // The operator, in a process of its own; its API-server connections pass a counter.
    const apiUrl = new URL(bed.controlPlane!.url);
    const apiDoor = await startTcpCounter({ host: apiUrl.hostname, port: Number(apiUrl.port) });
    stops.push(() => apiDoor.close());
    const operatorYaml = bed.kubeconfigYaml!.replaceAll(
      bed.controlPlane!.url.replace(/\/+$/, ''),
      `https://${apiUrl.hostname}:${apiDoor.port}`,
    );
    if (operatorYaml === bed.kubeconfigYaml)
      throw new Error('could not point the operator at the counter');
    const logFile = fileURLToPath(
      new URL('../../.bench/operator-keys.operator.log', import.meta.url),
    );
    const profileName = `operator-keys-${startedAt.replace(/[:.]/g, '-')}.cpuprofile`;
    const op = await startOperatorProcess({
      kubeconfigYaml: operatorYaml,
      logFile,
      nodeFlags: [
        ...OPERATOR_NODE_FLAGS,
        ...(PROFILE
          ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', profileName]
          : []),
      ],
      env: {
        LITELLM_URL: litellm.url,
        LITELLM_MASTER_KEY: MASTER_KEY,
        REDIS_URL: bed.redisUrl!,
        ROUTING_PREFIX: prefix,
        ROUTING_CHECK_INTERVAL: '500ms',
        GATEWAY_URL: 'http://gateway.bench/v1',
        RESYNC_INTERVAL: `${RESYNC_MS / 1000}s`,
        SPEND_SYNC_INTERVAL: `${SPEND_MS / 1000}s`,
        MODEL_CATALOG_REFRESH_INTERVAL: '1s',
        INSTALLATION_ID: run,
        ORPHAN_COLLECTION: 'off',
        LOG_LEVEL: process.env.BENCH_OPERATOR_LOG_LEVEL ?? 'warn',
        ...OPERATOR_ENV,
      },
    });
    stops.push(() => op.stop());

    for (const ns of [seqNs, bulkNs]) {
      await pollUntil(`ModelSubscription ${ns}/granite Active`, async () => {
        const sub = (await objects.api.getNamespacedCustomObject({
          group: 'llmtenancy.dev',
          version: 'v1alpha1',
          plural: 'modelsubscriptions',
          namespace: ns,
          name: 'granite',
        })) as ModelSubscription;
        return sub.status?.phase === 'Active' ? sub : undefined;
      });
    }
    await pollUntil(`Team ${teamName} Ready with ${MODEL}`, async () => {
      const team = await objects.teams.get(teamName);
      return team && isReady(team) && team.status?.models?.includes(MODEL) ? team : undefined;
    });

    // The bench's own watches, each on a connection of its own.
    const selector = `${BENCH_LABEL}=${run}`;
    const keyInformer = startWatch<VirtualKey>(kc, {
      ...VIRTUAL_KEY_TARGET,
      labelSelector: selector,
    });
    // The bench reads the key values: whole Secrets, unlike the operator's metadata-only cache.
    const secretInformer = startWatch<V1Secret & KubeObject>(kc, {
      ...KEY_SECRET_TARGET,
      metadataOnly: false,
    });
    const configMapInformer = startWatch<V1ConfigMap & KubeObject>(kc, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: floorNs,
      labelSelector: selector,
    });
    const teamInformer = startWatch<Team>(kc, { ...TEAM_TARGET, labelSelector: selector });
    const informers = [keyInformer, secretInformer, configMapInformer, teamInformer];
    stops.push(() => Promise.all(informers.map((i) => i.stop())));
    await Promise.all(informers.map((i) => i.waitForSync()));

    const ctx: Context = {
      bed,
      kc,
      benchRequests: pooled.requests,
      core: kc.makeApiClient(CoreV1Api),
      litellm,
      litellmTiming,
      litellmConnections: () => litellmConnections,
      op,
      apiDoor,
      objects,
      redis,
      run,
      prefix,
      seqNs,
      bulkNs,
      floorNs,
      keyReady: new Arrivals<VirtualKey>(isReady),
      keyFinalized: new Arrivals<VirtualKey>((k) => (k.metadata.finalizers ?? []).length > 0),
      secretSeen: new Arrivals<V1Secret & KubeObject>((s) => Boolean(s.data?.OPENAI_API_KEY)),
      configMapSeen: new Arrivals<V1ConfigMap & KubeObject>(),
      teamReady: new Arrivals<Team>(isReady),
      keyChanges: { count: 0, last: performance.now() },
      keyWriters: new WritesByManager(),
      secretChanges: { count: 0 },
      registeredAtReady: new Map(),
      keyInformer,
      secretInformer,
    };
    ctx.keyReady.onArrival = (key, id) =>
      ctx.registeredAtReady.set(id, litellm.store.keys.has(key.status?.keyId ?? ''));
    keyInformer.addEventHandler(ctx.keyReady.handler);
    keyInformer.addEventHandler(ctx.keyFinalized.handler);
    keyInformer.addEventHandler({
      update: (old, current) => {
        if (old.metadata.resourceVersion === current.metadata.resourceVersion) return;
        ctx.keyChanges.count++;
        ctx.keyChanges.last = performance.now();
      },
    });
    keyInformer.addEventHandler(ctx.keyWriters.handler);
    secretInformer.addEventHandler(ctx.secretSeen.handler);
    secretInformer.addEventHandler({
      update: (old, current) => {
        if (old.metadata?.resourceVersion !== current.metadata?.resourceVersion)
          ctx.secretChanges.count++;
      },
    });
    configMapInformer.addEventHandler(ctx.configMapSeen.handler);
    teamInformer.addEventHandler(ctx.teamReady.handler);
    const setupMs = performance.now() - setupStart;
    console.log(
      `test bed, LiteLLM test server and operator (pid ${op.pid}, ${op.main} ${OPERATOR_NODE_FLAGS.join(' ')}) ready in ${ms(setupMs)} (kube-apiserver ${bed.controlPlane!.url}, ${bed.redisUrl}, LiteLLM ${litellm.url})`,
    );

    console.log(`(a) ${SEQUENTIAL} VirtualKeys one at a time, with the baselines interleaved…`);
    const a = await sequential(ctx);
    console.log(`(b) ${KEYS} VirtualKeys at once…`);
    const b = await bulk(ctx);
    const verified = verify(ctx, SEQUENTIAL + WARMUP + KEYS);
    console.log(
      `(c) the next periodic resync of ${ctx.keyReady.size} keys (interval ${RESYNC_MS / 1000} s, waited for)…`,
    );
    const c = await resync(ctx);
    verify(ctx, SEQUENTIAL + WARMUP + KEYS);

    let profile: ProfileSummary | undefined;
    if (PROFILE) {
      await op.stop(); // the profile is written as the process exits
      profile = await summarizeProfile(`${PROFILE_DIR}${profileName}`, ROOT, 20, b.profileWindow);
    }
    const tables = [...report(a, b, c, verified), ...(profile ? profileTables(profile) : [])];
    console.log(`\n${NAME} — ${startedAt} — ${describeMachine(machine)}\n`);
    console.log(tables.map(renderTable).join('\n\n'));
    const path = await writeJson(NAME, {
      bench: NAME,
      run,
      startedAt,
      machine,
      settings: {
        quick: QUICK,
        sequential: SEQUENTIAL,
        warmup: WARMUP,
        keys: KEYS,
        concurrency: CONCURRENCY,
        resyncIntervalMs: RESYNC_MS,
        spendSyncIntervalMs: SPEND_MS,
        operatorMain: op.main,
        operatorNodeFlags: OPERATOR_NODE_FLAGS,
        operatorEnv: OPERATOR_ENV,
      },
      results: { sequential: a, bulk: b, resync: c, profile },
    });
    console.log(`\nwrote ${path}; the operator's log: ${logFile}`);
    return 0;
  } finally {
    await stopAll();
  }
}

// ---- the tables ------------------------------------------------------------------------

/** Where the operator's CPU went during (b): self time by function and by place. */
function profileTables(p: ProfileSummary): Table[] {
  const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
  const window = p.window ? 'during (b), creates → last key usable' : 'the whole run';
  return [
    {
      title: `the operator's CPU profile, ${window}: ${ms(p.busyMs)} busy of ${ms(p.totalMs)}; top places (self time)`,
      header: ['place', 'self', 'share of busy'],
      rows: p.places.slice(0, 12).map((e) => [e.name, ms(e.ms), pct(e.share)]),
    },
    {
      title: 'top functions (self time)',
      header: ['function', 'where', 'self', 'share'],
      rows: p.functions.slice(0, 15).map((e) => [e.name, e.where, ms(e.ms), pct(e.share)]),
      notes: [`profile: ${p.file} (open in Chrome DevTools)`],
    },
  ];
}

function report(
  a: Awaited<ReturnType<typeof sequential>>,
  b: Awaited<ReturnType<typeof bulk>>,
  c: Awaited<ReturnType<typeof resync>>,
  verified: number,
): Table[] {
  const row = (label: string, s: Summary) => [label, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)];
  const ratios = (label: string, x: Summary, base: Summary) => [
    label,
    times(ratio(x.p50, base.p50)),
    times(ratio(x.p90, base.p90)),
    times(ratio(x.p99, base.p99)),
    times(ratio(x.max, base.max)),
  ];
  const tableA: Table = {
    title: `(a) apply → usable, one object at a time, the three kinds interleaved (n = ${a.samples} each, after ${a.warmup} warm-up rounds); times from the create call`,
    header: ['', 'p50', 'p90', 'p99', 'max'],
    rows: [
      row('VirtualKey apply → usable (Secret + LiteLLM key + Ready=True)', a.key),
      row('  of which apply → finalizer added (first reconcile began)', a.toFinalizer),
      row('  of which apply → Secret written', a.toSecret),
      row('  the same, counted from the create call returning', a.keyFromReturn),
      row('baseline: ConfigMap apply → watch event (API-server floor)', a.floor),
      row('  the same, counted from the create call returning', a.floorFromReturn),
      row('baseline: Team apply → Ready=True (one LiteLLM team)', a.team),
      ratios('ratio VirtualKey / ConfigMap floor (target p50 ≤ 3×)', a.key, a.floor),
      ratios('ratio VirtualKey / Team', a.key, a.team),
    ],
    notes: [
      'apply = the create call issued; usable = the later of "Secret with OPENAI_API_KEY" and "Ready=True", both seen by watches.',
      `LiteLLM key registered when Ready=True arrived: ${a.litellmKeyPresentAtReady}/${a.samples}. ConfigMap watch events that beat the create response: ${a.floorEventsBeforeCreateReturned}/${a.samples}`,
      '(counted 0 ms from the return; that floor is ~0, so the ratios use times from the call being issued).',
    ],
  };

  const tableB: Table = {
    title: `(b) ${count(b.keys)} VirtualKeys created at once in one namespace, ${b.concurrency} creates in flight`,
    header: ['', 'VirtualKeys', 'baseline: ConfigMaps', 'ratio'],
    rows: [
      [
        'all create calls returned',
        ms(b.keysCreatesDoneMs),
        ms(b.configMapsCreatesDoneMs),
        times(ratio(b.keysCreatesDoneMs, b.configMapsCreatesDoneMs)),
      ],
      [
        'all usable (ConfigMaps: all seen by the watch)',
        ms(b.keysConvergedMs),
        ms(b.configMapsAllSeenMs),
        times(ratio(b.keysConvergedMs, b.configMapsAllSeenMs)),
      ],
      [
        `throughput (target ≥ ${TARGET_KEYS_PER_SECOND} keys/s)`,
        `${b.keysPerSecond.toFixed(1)} keys/s`,
        `${b.configMapsPerSecond.toFixed(0)} /s`,
        '',
      ],
      [
        'per object apply → usable p50',
        ms(b.perKey.p50),
        ms(b.perConfigMap.p50),
        times(ratio(b.perKey.p50, b.perConfigMap.p50)),
      ],
      [
        'per object apply → usable p99',
        ms(b.perKey.p99),
        ms(b.perConfigMap.p99),
        times(ratio(b.perKey.p99, b.perConfigMap.p99)),
      ],
    ],
  };
  const k = b.costs;
  const reconciles = sumMatching(k.operator, 'reconciles ');
  const reconcileSeconds = k.operator['reconcile seconds_sum'] ?? Number.NaN;
  const reconcileCount = k.operator['reconcile seconds_count'] ?? Number.NaN;
  const wall = b.keysConvergedMs;
  const om = b.operatorMemory;
  const litellmCalls = k.litellm.total;
  const tableB2: Table = {
    title: `(b, cont.) what converging ${count(b.keys)} keys cost, from creates to the last key usable (${ms(wall)}), counted at the servers`,
    header: ['', 'total', 'per key / note'],
    rows: [
      ['LiteLLM calls, all routes', count(litellmCalls), (litellmCalls / b.keys).toFixed(2)],
      ...Object.entries(k.litellm.byRoute).map(([route, n]) => [
        `  ${route}`,
        count(n),
        (n / b.keys).toFixed(2),
      ]),
      [
        '  GET /key/info, once the queue drained',
        count(b.drained.litellm.byRoute['GET /key/info'] ?? 0),
        ((b.drained.litellm.byRoute['GET /key/info'] ?? 0) / b.keys).toFixed(2),
      ],
      ['LiteLLM writes', count(k.litellm.writes), (k.litellm.writes / b.keys).toFixed(2)],
      [
        "LiteLLM's own figure: mean time to answer a call (server side)",
        ms(k.litellmMeanResponseMs),
        `${((litellmCalls * k.litellmMeanResponseMs) / wall).toFixed(2)} calls in flight on average`,
      ],
      [
        'LiteLLM keys owned by these VirtualKeys',
        count(b.litellmKeysOwned),
        b.litellmKeysOwned === b.keys ? 'one each, no duplicates' : 'MISMATCH',
      ],
      ['operator reconciles', count(reconciles), (reconciles / b.keys).toFixed(2)],
      [
        '  the same, once the queue drained',
        count(b.drained.reconciles),
        `${(b.drained.reconciles / b.keys).toFixed(2)} (drained ${ms(b.drained.afterMs)} later)`,
      ],
      ...Object.entries(k.operator)
        .filter(([key]) => key.startsWith('reconciles '))
        .map(([key, n]) => [`  ${key.slice('reconciles '.length)}`, count(n), '']),
      ['  reconcile errors', count(k.operator['reconcile errors'] ?? 0), ''],
      [
        'mean reconcile time',
        ms((reconcileSeconds / reconcileCount) * 1000),
        `${count(reconcileCount)} timed`,
      ],
      ['max VirtualKey queue depth (sampled /1 s)', count(b.maxQueueDepth), ''],
      [
        'API-server requests (apiserver_request_total)',
        count(k.apiServerRequestsTotal),
        (k.apiServerRequestsTotal / b.keys).toFixed(2),
      ],
      ...Object.entries(k.apiServerRequests)
        .slice(0, 8)
        .map(([key, n]) => [`  ${key}`, count(n), (n / b.keys).toFixed(2)]),
      [
        "  of which the operator's (less the bench's own)",
        count(k.operatorApiRequests),
        (k.operatorApiRequests / b.keys).toFixed(2),
      ],
      [
        'new operator connections to kube-apiserver (each a TCP + TLS handshake)',
        count(k.operatorApiConnections),
        `${(k.operatorApiConnections / Math.max(1, k.operatorApiRequests)).toFixed(3)} per API request (target ≤ 0.01)`,
      ],
      [
        'new connections to LiteLLM (at its server)',
        count(k.litellmConnections),
        `${(k.litellmConnections / Math.max(1, litellmCalls)).toFixed(3)} per LiteLLM call`,
      ],
      [
        'routing records written to Redis (revision Δ)',
        count(k.routingRevisionDelta),
        (k.routingRevisionDelta / b.keys).toFixed(2),
      ],
      ...cpuRows(k.cpuSeconds, wall),
      [
        'event-loop utilisation: operator / bench process (LiteLLM + bench)',
        `${(b.operatorEventLoopUtilization * 100).toFixed(0)} % / ${(b.benchEventLoopUtilization * 100).toFixed(0)} %`,
        '',
      ],
      [
        'operator RSS before → after (after GC; target ≤ 300 MiB)',
        `${mib(om.before.rss)} → ${mib(om.after.rss)}`,
        `peak ${mib(om.peakRss)} (sampled /1 s)`,
      ],
      [
        'operator JS heap used before → after (after GC)',
        `${mib(om.before.heapUsed)} → ${mib(om.after.heapUsed)}`,
        om.after.gcExposed
          ? `${((((om.after.heapUsed - om.before.heapUsed) / b.keys) * 1000) / 1024 / 1024).toFixed(2)} MiB per 1,000 keys`
          : 'no --expose-gc: not collected first',
      ],
      [
        '  V8 heap reserved (heapTotal) before → after; of it the young generation',
        `${mib(om.before.heapTotal)} → ${mib(om.after.heapTotal)}`,
        `new space ${mib(om.after.heapSpaces.new_space ?? 0)}, code ${mib(om.after.heapSpaces.code_space ?? 0)}`,
      ],
      [
        'operator external (Buffers, native) before → after',
        `${mib(om.before.external)} → ${mib(om.after.external)}`,
        `of it ArrayBuffers ${mib(om.after.arrayBuffers)}`,
      ],
      [
        '  RSS made of: anonymous (heap, malloc, stacks) / mapped files (node binary, libraries)',
        `${mib(om.resident.anonymous)} / ${mib(om.resident.file)}`,
        `anonymous beyond V8's heap: ${mib(om.resident.anonymous - om.after.heapTotal)}`,
      ],
      [
        'bench process (LiteLLM test server + watches) RSS after GC',
        `${mib(b.benchMemory.before.rss)} → ${mib(b.benchMemory.after.rss)}`,
        '',
      ],
    ],
    notes: [
      "The operator runs in a process of its own (node operator/src/main.ts); its connections to kube-apiserver are counted by a TCP pass-through at the server's door, LiteLLM's by its server.",
      'A key is one VirtualKey, one Secret (metadata cached) and one LiteLLM row in the operator.',
      `afterwards every VirtualKey verified: Secret value ↔ status.keyId ↔ LiteLLM key, Ready=True: ${count(verified)}/${count(verified)}`,
    ],
  };

  const r = c.costs;
  const apiWrites = Object.values(c.apiServerWrites).reduce((t, v) => t + v, 0);
  const apiReads = Object.values(c.apiServerReads).reduce((t, v) => t + v, 0);
  const redisWrites = sumMatching(r.operator, 'routing writes ');
  const redisWriteCommands = Object.entries(r.redisCommands).filter(
    ([key]) =>
      !['hgetall', 'hget', 'hmget', 'hscan', 'get', 'ping', 'select', 'client', 'info'].includes(
        key,
      ),
  );
  const tableC: Table = {
    title: `(c) the next periodic resync of all ${count(c.keys)} converged keys (operator RESYNC_INTERVAL ${RESYNC_MS / 1000} s), counted at the servers`,
    header: ['', 'measured', 'target'],
    rows: [
      ['keys reconciled', count(c.reconciles), count(c.keys)],
      ['resync spread (first → last reconcile seen)', ms(c.resyncMs), ''],
      ['LiteLLM writes', count(r.litellm.writes), '0'],
      [
        'LiteLLM key reads (GET /key/info + GET /key/list)',
        `${count(c.litellmKeyReads)} (${count(c.keyInfoCalls)} + ${count(c.keyListCalls)})`,
        '',
      ],
      [
        `  of which the spend sync's (${count(c.spendPasses)} passes × ${Math.ceil(c.keys / 100)} pages)`,
        count(c.spendKeyReads),
        'its own loop, every BENCH_SPEND_S',
      ],
      [
        '  of which the resync’s own (the spend sync’s listing feeds its snapshot)',
        count(c.resyncKeyReads),
        `≤ ${count(Math.ceil(c.keys / 100))} (100 per 10,000 keys)`,
      ],
      [
        'LiteLLM calls, all routes (window)',
        count(r.litellm.total),
        topEntries(r.litellm.byRoute, 4),
      ],
      [
        'VirtualKey resourceVersion changes (watch)',
        count(r.virtualKeyResourceVersionChanges),
        '0',
      ],
      ...Object.entries(r.virtualKeyWritesByManager).map(([manager, n]) => [
        `  written by ${manager}`,
        count(n),
        '0',
      ]),
      ['key Secret resourceVersion changes (watch)', count(r.secretResourceVersionChanges), '0'],
      [
        'API-server writes (apiserver_request_total, its own Lease left out)',
        count(apiWrites),
        '0',
      ],
      ['API-server reads (GET, LIST)', count(apiReads), `0; ${topEntries(c.apiServerReads, 3)}`],
      [
        "  of which the operator's (its own llmtenancy_kube_requests_total: get, list)",
        count(sumOfValues(r.operatorKubeReads)),
        `0; ${topEntries(r.operatorKubeReads, 3)}`,
      ],
      [
        '  everything the operator sent the API server meanwhile (watches included)',
        count(sumOfValues(r.operatorKube)),
        topEntries(r.operatorKube, 4),
      ],
      [
        'new operator connections to kube-apiserver / to LiteLLM',
        `${count(r.operatorApiConnections)} / ${count(r.litellmConnections)}`,
        '',
      ],
      [
        'Redis routing writes (revision Δ / publisher writes)',
        `${count(r.routingRevisionDelta)} / ${count(redisWrites)}`,
        '0 / 0',
      ],
      [
        'Redis puts skipped as unchanged (publisher)',
        count(sumMatching(r.operator, 'routing skipped ')),
        count(c.keys),
      ],
      [
        'Redis commands (INFO commandstats Δ)',
        count(Object.values(r.redisCommands).reduce((t, v) => t + v, 0)),
        topEntries(r.redisCommands, 4),
      ],
      [
        '  of which may write',
        count(redisWriteCommands.reduce((t, [, v]) => t + v, 0)),
        redisWriteCommands.map(([key, v]) => `${key} ${v}`).join(', ') || 'none',
      ],
      ...cpuRows(r.cpuSeconds, r.wallMs),
      [
        'operator event-loop utilisation / RSS after GC',
        `${(c.operatorEventLoopUtilization * 100).toFixed(0)} % / ${mib(c.operatorMemory.rss)}`,
        '',
      ],
    ],
    notes: [
      `window: ${ms(r.wallMs)}, from the queue going quiet after (b) and a spend pass over every key (every ${SPEND_MS / 1000} s) until every key had been reconciled again and the queue was quiet; background work in it (routing check every 0.5 s, model catalog refresh every 1 s, spend passes) is included.`,
    ],
  };
  return [tableA, tableB, tableB2, tableC, targets(a, b, c)];
}

/**
 * A new key's writes that must follow one another (reconciler.ts): the finalizer before the
 * LiteLLM key exists, its hash in status before the value reaches the Secret, Ready after it.
 * Each is a round trip as long as the floor's create at least.
 */
const SERIAL_WRITES_TO_USABLE = 4;

/** Issue 12's targets next to what this run measured (never asserted). */
function targets(
  a: Awaited<ReturnType<typeof sequential>>,
  b: Awaited<ReturnType<typeof bulk>>,
  c: Awaited<ReturnType<typeof resync>>,
): Table {
  const k = b.costs;
  const r = c.costs;
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const apiWrites = Object.values(c.apiServerWrites).reduce((t, v) => t + v, 0);
  const apiReads = Object.values(c.apiServerReads).reduce((t, v) => t + v, 0);
  const operatorReads = sumOfValues(r.operatorKubeReads);
  const tlsPerRequest = k.operatorApiConnections / Math.max(1, k.operatorApiRequests);
  const floorRatio = ratio(a.key.p50, a.floor.p50);
  const heapPer1000 =
    (((b.operatorMemory.after.heapUsed - b.operatorMemory.before.heapUsed) / b.keys) * 1000) /
    1024 /
    1024;
  // Each key costs the API server its create and this many of the operator's requests; the
  // ConfigMaps show how many creates per second it serves: the quotient bounds keys/s there.
  const requestsPerKey = 1 + k.operatorApiRequests / b.keys;
  const apiBound = b.configMapsPerSecond / requestsPerKey;
  const litellmBusy = (k.litellm.total * k.litellmMeanResponseMs) / b.keysConvergedMs;
  const rows: string[][] = [
    [
      `${count(b.keys)} keys at once: keys/s`,
      `${b.keysPerSecond.toFixed(1)}`,
      `≥ ${TARGET_KEYS_PER_SECOND} (10,000 in ≤ 60 s)`,
      mark(b.keysPerSecond >= TARGET_KEYS_PER_SECOND),
    ],
    [
      '  the API server’s bound: ConfigMaps/s ÷ API requests per key (create + operator’s)',
      `${apiBound.toFixed(0)} keys/s (${b.configMapsPerSecond.toFixed(0)} / ${requestsPerKey.toFixed(2)})`,
      '',
      '',
    ],
    [
      '  LiteLLM’s share: calls × server time ÷ wall time',
      `${(litellmBusy * 100).toFixed(1)} % busy`,
      '',
      '',
    ],
    [
      'no-change resync: writes anywhere (LiteLLM + API server)',
      count(r.litellm.writes + apiWrites),
      '0',
      mark(r.litellm.writes + apiWrites === 0),
    ],
    [
      "no-change resync: API-server reads, the operator's (all the server counted)",
      `${count(operatorReads)} (${count(apiReads)})`,
      '0',
      mark(operatorReads === 0),
    ],
    [
      'no-change resync: LiteLLM key reads (its own; the spend sync’s passes apart)',
      `${count(c.resyncKeyReads)} (+ ${count(c.spendKeyReads)})`,
      `≤ ${count(Math.ceil(c.keys / 100))} (100 per 10,000 keys)`,
      mark(c.resyncKeyReads <= Math.ceil(c.keys / 100)),
    ],
    [
      'new TLS connections per API request',
      tlsPerRequest.toFixed(4),
      `≤ ${TARGET_TLS_PER_REQUEST}`,
      mark(tlsPerRequest <= TARGET_TLS_PER_REQUEST),
    ],
    [
      `operator RSS at ${count(c.keys)} keys (after GC; peak during (b))`,
      `${mib(c.operatorMemory.rss)} (${mib(b.operatorMemory.peakRss)})`,
      '≤ 300 MiB at 10,000',
      mark(Math.max(c.operatorMemory.rss, b.operatorMemory.peakRss) <= TARGET_RSS_BYTES),
    ],
    ['operator heap per 1,000 keys', `${heapPer1000.toFixed(2)} MiB`, 'reported', ''],
    [
      'apply → usable p50 ÷ ConfigMap floor p50',
      times(floorRatio),
      `≤ ${TARGET_FLOOR_RATIO}×`,
      mark(floorRatio <= TARGET_FLOOR_RATIO),
    ],
    [
      `  its bound: ${SERIAL_WRITES_TO_USABLE} API writes in a row (finalizer, status record, Secret, Ready) × the floor`,
      `${times(SERIAL_WRITES_TO_USABLE)} (${ms(SERIAL_WRITES_TO_USABLE * a.floor.p50)})`,
      '',
      '',
    ],
  ];
  return {
    title: `issue 12's targets, this run (${count(b.keys)} keys; the targets are for 10,000)`,
    header: ['', 'measured', 'target', ''],
    rows,
  };
}

try {
  process.exitCode = await main();
} catch (err) {
  if (err instanceof BedUnavailableError) {
    console.error(`${NAME}: ${err.message}`);
  } else {
    console.error(`${NAME} failed:`, err);
  }
  process.exitCode = 1;
}
// Everything was stopped above; leave at once rather than wait for unref'd stragglers.
process.exit();
