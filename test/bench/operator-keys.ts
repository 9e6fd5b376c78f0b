// Benchmark (not a test: no thresholds) of the operator's VirtualKeys, against baselines
// measured side by side in the same run, on the real test bed: kube-apiserver + etcd and
// Redis (test/harness), the LiteLLM test server, and the operator in this process as the
// integration suites run it (test/integration/support/key-operator.ts).
//
//   (a) apply → usable, one key at a time: create a VirtualKey, wait until its Secret exists,
//       its LiteLLM key is registered and it is Ready=True. Interleaved with the baselines,
//       sample by sample: a ConfigMap create → its watch event (the API server's own floor)
//       and a Team create → Ready=True (the operator's simplest LiteLLM round trip).
//   (b) BULK keys created at once in one namespace (CONCURRENCY creates in flight) → all
//       usable; baseline: as many ConfigMaps the same way → all seen by a watch.
//   (c) a no-change resync of every converged key, triggered by moving the controller's
//       clock past the resync interval (bench-clock.ts): what it costs in LiteLLM calls,
//       API-server writes and Redis writes (all expected to be 0 writes).
//
// Times are taken by the bench's own watches (the operator's Informer class, on a client of
// the bench's own that reuses its connections: support/kube.ts), never by polling. Costs come
// from outside the operator where possible: the API server's /metrics, Redis's INFO, the
// LiteLLM test server's call counts, /proc. Prints tables; writes .bench/operator-keys.json.
//
//   npm run bench                          (runs this with --expose-gc, via run.ts)
//   BENCH_SEQUENTIAL=20 BENCH_BULK=200 BENCH_CONCURRENCY=32 node test/bench/operator-keys.ts
import { randomBytes } from 'node:crypto';
import {
  CoreV1Api,
  type KubeConfig,
  type V1ConfigMap,
  type V1Secret,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
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
import {
  KeyObjects,
  secretKey,
  startKeyOperator,
  type KeyOperator,
} from '../integration/support/key-operator.ts';
import { start as startLiteLLM, type LiteLLMTestServer } from '../litellm-server/server.ts';
import type { CallSnapshot } from '../litellm-server/calls.ts';
import { Arrivals, forEachLimit } from './support/arrivals.ts';
import { BedUnavailableError, startBenchBed } from './support/bed.ts';
import { BenchClock } from './support/bench-clock.ts';
import { pooledKubeConfig } from './support/kube.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import {
  apiServerRequests,
  ConnectionCounter,
  counterDelta,
  cpuDelta,
  cpuSeconds,
  redisCommandStats,
  type CpuSeconds,
} from './support/probes.ts';
import { count, mib, ms, renderTable, times, writeJson, type Table } from './support/report.ts';
import { ratio, summarize, type Summary } from './support/stats.ts';

const NAME = 'operator-keys';
const SEQUENTIAL = intFromEnv('BENCH_SEQUENTIAL', 100);
const BULK = intFromEnv('BENCH_BULK', 1000);
const CONCURRENCY = intFromEnv('BENCH_CONCURRENCY', 32);
const WARMUP = 5;
/** Realistic: no resync fires by itself during the run; (c) triggers one on purpose. */
const RESYNC_MS = 5 * 60_000;
const MODEL = 'granite-3-8b';
const WAIT_ONE_MS = 60_000;
const WAIT_BULK_MS = 15 * 60_000;
const BENCH_LABEL = 'llmtenancy.dev/bench-run';

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

function memory() {
  gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  return {
    rss,
    heapUsed,
    external,
    gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
  };
}

/** The operator's own counters (its Prometheus registry), flattened for deltas. */
async function operatorCounters(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const read = async (name: string, keep: (labels: Record<string, unknown>) => string | null) => {
    const metric = registry.getSingleMetric(name);
    if (!metric) return;
    for (const value of (await metric.get()).values) {
      const key = keep(value.labels as Record<string, unknown>);
      if (key === null) continue;
      const suffix = ((value as { metricName?: string }).metricName ?? name).slice(name.length);
      if (suffix === '_bucket') continue;
      const full = `${key}${suffix}`;
      out[full] = (out[full] ?? 0) + value.value;
    }
  };
  const vk = (l: Record<string, unknown>) => l.controller === VIRTUAL_KEY_CONTROLLER;
  await read('controller_runtime_reconcile_total', (l) =>
    vk(l) ? `reconciles ${String(l.result)}` : null,
  );
  await read('controller_runtime_reconcile_errors_total', (l) =>
    vk(l) ? 'reconcile errors' : null,
  );
  await read('controller_runtime_reconcile_time_seconds', (l) =>
    vk(l) ? 'reconcile seconds' : null,
  );
  await read('llmtenancy_routing_writes_total', (l) => `routing writes ${String(l.op)}`);
  await read('llmtenancy_routing_skipped_total', (l) => `routing skipped ${String(l.op)}`);
  return out;
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

function topEntries(counters: Record<string, number>, n: number): string {
  const entries = Object.entries(counters);
  const shown = entries.slice(0, n).map(([k, v]) => `${k} ${count(v)}`);
  if (entries.length > n) shown.push(`… ${entries.length - n} more`);
  return shown.join(', ') || 'none';
}

function cpuRows(delta: CpuSeconds, wallMs: number): string[][] {
  const names = ['node', 'kube-apiserver', 'etcd', 'redis-server'];
  const others = Object.keys(delta).filter((n) => !names.includes(n));
  return [...names, ...others]
    .filter((name) => delta[name] !== undefined)
    .map((name) => {
      const seconds = delta[name]!;
      const label = name === 'node' ? 'node (operator + LiteLLM test server + bench)' : name;
      return [
        `  CPU ${label}`,
        `${seconds.toFixed(1)} s`,
        `${((seconds / (wallMs / 1000)) * 100).toFixed(0)} % of a core`,
      ];
    });
}

// ---------------------------------------------------------------------------------------

interface Context {
  bed: TestBed;
  kc: KubeConfig;
  core: CoreV1Api;
  litellm: LiteLLMTestServer;
  operator: KeyOperator;
  clock: BenchClock;
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
  secretChanges: { count: number };
  /** LiteLLM key present when Ready=True was seen: key → true/false. */
  registeredAtReady: Map<string, boolean>;
  keyInformer: Informer<VirtualKey>;
  secretInformer: Informer<V1Secret & KubeObject>;
  connections: ConnectionCounter;
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

function keyController(ctx: Context) {
  const controller = ctx.operator.manager.controllers.find(
    (c) => c.name === VIRTUAL_KEY_CONTROLLER,
  );
  if (!controller) throw new Error(`no ${VIRTUAL_KEY_CONTROLLER} controller in the operator`);
  return controller;
}

// ---- (b) ------------------------------------------------------------------------------

async function bulk(ctx: Context) {
  const registry = ctx.operator.manager.metrics.registry;
  const { queue } = keyController(ctx);

  // Baseline: as many ConfigMaps, the same way.
  const cmStart = performance.now();
  const cmCalls: Call[] = [];
  const cmSeen = Array.from({ length: BULK }, (_, i) =>
    ctx.configMapSeen.seen(`${ctx.floorNs}/bulk-${i}`, WAIT_BULK_MS),
  );
  await forEachLimit(BULK, CONCURRENCY, async (i) => {
    cmCalls[i] = await createConfigMap(ctx, `bulk-${i}`);
  });
  const cmCreatesDone = performance.now();
  const cmTimes = await Promise.all(cmSeen);
  const cmAllSeen = Math.max(...cmTimes);
  const cmPer = cmTimes.map((t, i) => t - cmCalls[i]!.issued);
  await sleep(2_000); // let the API server settle before the keys

  // The keys.
  const memBefore = memory();
  const cpuBefore = await cpuSeconds();
  const callsBefore = ctx.litellm.calls.snapshot();
  const apiBefore = await apiServerRequests(ctx.kc);
  const opBefore = await operatorCounters(registry);
  const revisionBefore = await routingRevision(ctx.redis, ctx.prefix);
  const connectionsBefore = ctx.connections.snapshot();
  const eluBefore = performance.eventLoopUtilization();
  let maxDepth = 0;
  let maxRss = 0;
  const sampler = setInterval(() => {
    maxDepth = Math.max(maxDepth, queue.len());
    maxRss = Math.max(maxRss, process.memoryUsage.rss());
  }, 100);

  const start = performance.now();
  const keyCalls: Call[] = [];
  const waits = Array.from({ length: BULK }, (_, i) =>
    usableAt(ctx, `${ctx.bulkNs}/bulk-${i}`, WAIT_BULK_MS),
  );
  await forEachLimit(BULK, CONCURRENCY, async (i) => {
    keyCalls[i] = await createKey(ctx, ctx.bulkNs, `bulk-${i}`);
  });
  const createsDone = performance.now();
  const at = await Promise.all(waits);
  const converged = Math.max(...at.map((a) => a.usable));
  clearInterval(sampler);
  const elu = performance.eventLoopUtilization(eluBefore);
  const cpu = cpuDelta(cpuBefore, await cpuSeconds());
  const calls = litellmDelta(callsBefore, ctx.litellm.calls.snapshot());
  const api = counterDelta(apiBefore, await apiServerRequests(ctx.kc));
  const op = counterDelta(opBefore, await operatorCounters(registry));
  const routingWrites = (await routingRevision(ctx.redis, ctx.prefix)) - revisionBefore;
  const connections = connectionDelta(ctx, connectionsBefore);
  const memAfter = memory();
  // Work queued before the last key became usable still runs afterwards: count it too.
  const settleStart = performance.now();
  await settle(ctx, 1_000);
  const drained = {
    afterMs: performance.now() - settleStart,
    litellm: litellmDelta(callsBefore, ctx.litellm.calls.snapshot()),
    reconciles: sumMatching(
      counterDelta(opBefore, await operatorCounters(registry)),
      'reconciles ',
    ),
  };

  const ownedInLiteLLM = [...ctx.litellm.store.keys.values()].filter((k) =>
    String((k.metadata as Record<string, unknown>)['llmtenancy.dev/owner'] ?? '').startsWith(
      `VirtualKey/${ctx.bulkNs}/`,
    ),
  ).length;
  const registered = [...ctx.registeredAtReady]
    .filter(([k]) => k.startsWith(`${ctx.bulkNs}/`))
    .filter(([, ok]) => ok).length;

  return {
    keys: BULK,
    concurrency: CONCURRENCY,
    workers: keyController(ctx).workers,
    keysCreatesDoneMs: createsDone - start,
    keysConvergedMs: converged - start,
    keysPerSecond: BULK / ((converged - start) / 1000),
    perKey: summarize(at.map((a, i) => a.usable - keyCalls[i]!.issued)),
    configMapsCreatesDoneMs: cmCreatesDone - cmStart,
    configMapsAllSeenMs: cmAllSeen - cmStart,
    configMapsPerSecond: BULK / ((cmAllSeen - cmStart) / 1000),
    perConfigMap: summarize(cmPer),
    litellm: calls,
    litellmKeysOwned: ownedInLiteLLM,
    litellmKeyPresentAtReady: registered,
    apiServerRequests: api,
    operator: op,
    routingRevisionDelta: routingWrites,
    connections,
    drained,
    maxQueueDepth: maxDepth,
    eventLoopUtilization: elu.utilization,
    cpuSeconds: cpu,
    memory: { before: memBefore, after: memAfter, peakRss: maxRss },
  };
}

/** New connections to the API server and to LiteLLM since `before`. */
function connectionDelta(ctx: Context, before: Record<string, number>) {
  const after = ctx.connections.snapshot();
  const to = (url: string) => ConnectionCounter.to(after, url) - ConnectionCounter.to(before, url);
  return { apiServer: to(ctx.bed.controlPlane!.url), litellm: to(ctx.litellm.url) };
}

// ---- (c) ------------------------------------------------------------------------------

/** Until the VirtualKey queue is empty and idle, and no VirtualKey changed for quietMs. */
async function settle(ctx: Context, quietMs: number, timeoutMs = WAIT_BULK_MS): Promise<void> {
  const { queue } = keyController(ctx);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const idle = queue.len() === 0 && queue.processingLen() === 0;
    if (idle && performance.now() - ctx.keyChanges.last >= quietMs) return;
    if (Date.now() > deadline) throw new Error('the VirtualKey controller did not settle');
    await sleep(50);
  }
}

async function resync(ctx: Context) {
  const registry = ctx.operator.manager.metrics.registry;
  const { queue } = keyController(ctx);
  const keys = ctx.keyReady.size;
  await settle(ctx, 3_000);

  const callsBefore = ctx.litellm.calls.snapshot();
  const apiBefore = await apiServerRequests(ctx.kc);
  const redisBefore = await redisCommandStats(ctx.redis);
  const revisionBefore = await routingRevision(ctx.redis, ctx.prefix);
  const opBefore = await operatorCounters(registry);
  const keyChangesBefore = ctx.keyChanges.count;
  const secretChangesBefore = ctx.secretChanges.count;
  const connectionsBefore = ctx.connections.snapshot();
  const reconciled = async () =>
    sumMatching(counterDelta(opBefore, await operatorCounters(registry)), 'reconciles ');

  const start = performance.now();
  const timersFired = ctx.clock.advance(Math.round(RESYNC_MS * 1.2));
  let done = start;
  const deadline = Date.now() + WAIT_BULK_MS;
  while ((await reconciled()) < keys || queue.len() > 0 || queue.processingLen() > 0) {
    if (Date.now() > deadline) throw new Error('the resync did not reconcile every key');
    await sleep(20);
    done = performance.now();
  }
  const durationMs = done - start;
  await sleep(2_000); // anything the resync set off (status writes, events) arrives meanwhile
  const windowMs = performance.now() - start;

  const calls = litellmDelta(callsBefore, ctx.litellm.calls.snapshot());
  const api = counterDelta(apiBefore, await apiServerRequests(ctx.kc));
  const redis = counterDelta(redisBefore, await redisCommandStats(ctx.redis), ['info']);
  const op = counterDelta(opBefore, await operatorCounters(registry));
  const connections = connectionDelta(ctx, connectionsBefore);
  // Writes, less kube-apiserver's renewals of its own identity Lease (the operator runs
  // without leader election here, so it writes no Lease).
  const apiWrites = Object.fromEntries(
    Object.entries(api).filter(
      ([k]) => /^(POST|PUT|PATCH|DELETE|APPLY) /.test(k) && k !== 'PUT leases',
    ),
  );
  return {
    keys,
    timersFired,
    durationMs,
    windowMs,
    keysPerSecond: keys / (durationMs / 1000),
    reconciles: sumMatching(op, 'reconciles '),
    litellm: calls,
    keyInfoCalls: calls.byRoute['GET /key/info'] ?? 0,
    virtualKeyResourceVersionChanges: ctx.keyChanges.count - keyChangesBefore,
    secretResourceVersionChanges: ctx.secretChanges.count - secretChangesBefore,
    apiServerRequests: api,
    apiServerWrites: apiWrites,
    routingRevisionDelta: (await routingRevision(ctx.redis, ctx.prefix)) - revisionBefore,
    operator: op,
    redisCommands: redis,
    connections,
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
    // The operator gets the KubeConfig the integration suites give it; the bench's own
    // calls go through one connection pool (support/kube.ts).
    const operatorKc = bed.kubeConfig!;
    const pooled = pooledKubeConfig(bed.kubeconfigYaml!);
    stops.push(() => pooled.close());
    const kc = pooled.kc;
    const litellm = await startLiteLLM({ masterKey: 'sk-bench-master-key', models: [MODEL] });
    stops.push(() => litellm.stop());
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

    const clock = new BenchClock();
    const operator = await startKeyOperator({
      kc: operatorKc,
      litellm,
      redisUrl: bed.redisUrl!,
      prefix,
      labelSelector: `${BENCH_LABEL}=${run}`,
      resyncIntervalMs: RESYNC_MS,
      clock,
    });
    stops.push(() => operator.stop());

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
      core: kc.makeApiClient(CoreV1Api),
      litellm,
      operator,
      clock,
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
      secretChanges: { count: 0 },
      registeredAtReady: new Map(),
      keyInformer,
      secretInformer,
      connections: new ConnectionCounter().start(),
    };
    stops.push(async () => ctx.connections.stop());
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
      `test bed, LiteLLM test server and operator ready in ${ms(setupMs)} (kube-apiserver ${bed.controlPlane!.url}, ${bed.redisUrl}, LiteLLM ${litellm.url})`,
    );

    console.log(`(a) ${SEQUENTIAL} VirtualKeys one at a time, with the baselines interleaved…`);
    const a = await sequential(ctx);
    console.log(`(b) ${BULK} VirtualKeys at once…`);
    const b = await bulk(ctx);
    const verified = verify(ctx, SEQUENTIAL + WARMUP + BULK);
    console.log(`(c) a no-change resync of ${ctx.keyReady.size} keys…`);
    const c = await resync(ctx);
    verify(ctx, SEQUENTIAL + WARMUP + BULK);

    const tables = report(a, b, c, verified);
    console.log(`\n${NAME} — ${startedAt} — ${describeMachine(machine)}\n`);
    console.log(tables.map(renderTable).join('\n\n'));
    const path = await writeJson(NAME, {
      bench: NAME,
      run,
      startedAt,
      machine,
      settings: {
        sequential: SEQUENTIAL,
        warmup: WARMUP,
        bulk: BULK,
        concurrency: CONCURRENCY,
        resyncIntervalMs: RESYNC_MS,
        virtualKeyWorkers: operator.manager.controllers.find(
          (x) => x.name === VIRTUAL_KEY_CONTROLLER,
        )!.workers,
      },
      results: { sequential: a, bulk: b, resync: c },
    });
    console.log(`\nwrote ${path}`);
    return 0;
  } finally {
    await stopAll();
  }
}

// ---- the tables ------------------------------------------------------------------------

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
      ratios('ratio VirtualKey / ConfigMap floor', a.key, a.floor),
      ratios('ratio VirtualKey / Team', a.key, a.team),
    ],
    notes: [
      'apply = the create call issued; usable = the later of "Secret with OPENAI_API_KEY" and "Ready=True", both seen by watches.',
      `LiteLLM key registered when Ready=True arrived: ${a.litellmKeyPresentAtReady}/${a.samples}. ConfigMap watch events that beat the create response: ${a.floorEventsBeforeCreateReturned}/${a.samples}`,
      '(counted 0 ms from the return; that floor is ~0, so the ratios use times from the call being issued).',
    ],
  };

  const mem = b.memory;
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
        'throughput',
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
  const reconciles = sumMatching(b.operator, 'reconciles ');
  const reconcileSeconds = b.operator['reconcile seconds_sum'] ?? Number.NaN;
  const reconcileCount = b.operator['reconcile seconds_count'] ?? Number.NaN;
  const apiTotal = Object.values(b.apiServerRequests).reduce((t, v) => t + v, 0);
  const wall = b.keysConvergedMs;
  const tableB2: Table = {
    title: `(b, cont.) what converging ${count(b.keys)} keys cost, from creates to the last key usable (${ms(wall)})`,
    header: ['', 'total', 'per key / note'],
    rows: [
      ['LiteLLM calls, all routes', count(b.litellm.total), (b.litellm.total / b.keys).toFixed(2)],
      ...Object.entries(b.litellm.byRoute).map(([route, n]) => [
        `  ${route}`,
        count(n),
        (n / b.keys).toFixed(2),
      ]),
      [
        '  GET /key/info, once the queue drained',
        count(b.drained.litellm.byRoute['GET /key/info'] ?? 0),
        ((b.drained.litellm.byRoute['GET /key/info'] ?? 0) / b.keys).toFixed(2),
      ],
      ['LiteLLM writes', count(b.litellm.writes), (b.litellm.writes / b.keys).toFixed(2)],
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
      ...Object.entries(b.operator)
        .filter(([k]) => k.startsWith('reconciles '))
        .map(([k, n]) => [`  ${k.slice('reconciles '.length)}`, count(n), '']),
      ['  reconcile errors', count(b.operator['reconcile errors'] ?? 0), ''],
      [
        'mean reconcile time',
        ms((reconcileSeconds / reconcileCount) * 1000),
        `${count(reconcileCount)} timed; ${b.workers} workers`,
      ],
      ['max VirtualKey queue depth (sampled /100 ms)', count(b.maxQueueDepth), ''],
      [
        'API-server requests (apiserver_request_total)',
        count(apiTotal),
        (apiTotal / b.keys).toFixed(2),
      ],
      ...Object.entries(b.apiServerRequests)
        .slice(0, 8)
        .map(([k, n]) => [`  ${k}`, count(n), (n / b.keys).toFixed(2)]),
      [
        'new connections to kube-apiserver (each a TCP + TLS handshake)',
        count(b.connections.apiServer),
        `${(b.connections.apiServer / apiTotal).toFixed(2)} per API request`,
      ],
      [
        'new connections to LiteLLM',
        count(b.connections.litellm),
        `${(b.connections.litellm / b.litellm.total).toFixed(2)} per LiteLLM call`,
      ],
      [
        'routing records written to Redis (revision Δ)',
        count(b.routingRevisionDelta),
        (b.routingRevisionDelta / b.keys).toFixed(2),
      ],
      ...cpuRows(b.cpuSeconds, wall),
      [
        'event-loop utilisation of this Node process',
        `${(b.eventLoopUtilization * 100).toFixed(0)} %`,
        '',
      ],
      [
        'RSS before → after (after GC)',
        `${mib(mem.before.rss)} → ${mib(mem.after.rss)}`,
        `peak ${mib(mem.peakRss)}`,
      ],
      [
        'JS heap used before → after (after GC)',
        `${mib(mem.before.heapUsed)} → ${mib(mem.after.heapUsed)}`,
        mem.after.gcExposed
          ? `${((mem.after.heapUsed - mem.before.heapUsed) / b.keys / 1024).toFixed(1)} KiB/key`
          : 'no --expose-gc: not collected first',
      ],
      [
        'external (Buffers, native) before → after',
        `${mib(mem.before.external)} → ${mib(mem.after.external)}`,
        '',
      ],
    ],
    notes: [
      "CPU, RSS and heap of this process include the LiteLLM test server and the bench's own watches (a second cache of every key and Secret).",
      `afterwards every VirtualKey verified: Secret value ↔ status.keyId ↔ LiteLLM key, Ready=True: ${count(verified)}/${count(verified)}`,
    ],
  };

  const apiWrites = Object.values(c.apiServerWrites).reduce((t, v) => t + v, 0);
  const redisWriteCommands = Object.entries(c.redisCommands).filter(
    ([k]) =>
      !['hgetall', 'hget', 'hmget', 'hscan', 'get', 'ping', 'select', 'client', 'info'].includes(k),
  );
  const routingWrites = sumMatching(c.operator, 'routing writes ');
  const tableC: Table = {
    title: `(c) a no-change resync of all ${count(c.keys)} converged keys (controller clock moved past the ${RESYNC_MS / 60_000} min interval)`,
    header: ['', 'measured', 'expected'],
    rows: [
      ['keys reconciled', count(c.reconciles), count(c.keys)],
      ['resync duration (last reconcile done)', ms(c.durationMs), ''],
      ['resync throughput', `${c.keysPerSecond.toFixed(0)} keys/s`, ''],
      ['LiteLLM writes', count(c.litellm.writes), '0'],
      ['LiteLLM reads GET /key/info', count(c.keyInfoCalls), count(c.keys)],
      [
        'LiteLLM calls, all routes (window incl. 2 s after)',
        count(c.litellm.total),
        topEntries(c.litellm.byRoute, 4),
      ],
      [
        'VirtualKey resourceVersion changes (watch)',
        count(c.virtualKeyResourceVersionChanges),
        '0',
      ],
      ['key Secret resourceVersion changes (watch)', count(c.secretResourceVersionChanges), '0'],
      [
        'API-server write requests (apiserver_request_total, its own Lease left out)',
        count(apiWrites),
        '0',
      ],
      [
        'new connections to kube-apiserver / to LiteLLM',
        `${count(c.connections.apiServer)} / ${count(c.connections.litellm)}`,
        '',
      ],
      [
        'API-server requests, all',
        count(Object.values(c.apiServerRequests).reduce((t, v) => t + v, 0)),
        topEntries(c.apiServerRequests, 3),
      ],
      [
        'Redis routing writes (revision Δ / publisher writes)',
        `${count(c.routingRevisionDelta)} / ${count(routingWrites)}`,
        '0 / 0',
      ],
      [
        'Redis puts skipped as unchanged (publisher)',
        count(sumMatching(c.operator, 'routing skipped ')),
        count(c.keys),
      ],
      [
        'Redis commands (INFO commandstats Δ)',
        count(Object.values(c.redisCommands).reduce((t, v) => t + v, 0)),
        topEntries(c.redisCommands, 4),
      ],
      [
        '  of which may write',
        count(redisWriteCommands.reduce((t, [, v]) => t + v, 0)),
        redisWriteCommands.map(([k, v]) => `${k} ${v}`).join(', ') || 'none',
      ],
    ],
    notes: [
      `window: ${ms(c.windowMs)} from the trigger; background work in it (routing check every 0.5 s, model catalog refresh every 1 s) is included.`,
    ],
  };
  return [tableA, tableB, tableB2, tableC];
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
