// The VirtualKey reconciler against the fake KubeClient, the in-process LiteLLM test server
// and an in-memory routing publisher: the Secret, status, LiteLLM key and gateway record of
// each situation, what a new key costs in API requests, and that a converged key costs none.
import type { V1Secret } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KeyPolicy } from '../../../../contracts/routing/schema.ts';
import { hashKey } from '../../../../contracts/routing/key-hash.ts';
import type { ModelSubscription, Team, User, VirtualKey } from '../../../../crds/api/index.ts';
import { aModelSubscription, aTeam, aVirtualKey } from '../../../../test/fixtures/builders.ts';
import type { LiteLLMTestServer } from '../../../../test/litellm-server/server.ts';
import { getCondition } from '../../runtime/conditions.ts';
import { EventRecorder } from '../../runtime/events.ts';
import { FakeKubeClient } from '../../runtime/fake-kube-client.ts';
import type { Kind, ObjectRef } from '../../runtime/kube-client.ts';
import { KubeApiError } from '../../runtime/kube-http.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { isTerminalError } from '../../runtime/result.ts';
import {
  MODEL_SUBSCRIPTION_TARGET,
  TEAM_TARGET,
  USER_TARGET,
  VIRTUAL_KEY_RESOURCE,
  VIRTUAL_KEY_TARGET,
} from '../shared/kinds.ts';
import {
  eventsIn,
  INSTALLATION,
  litellmClient,
  objectWrites,
  reconcileContext,
  startLiteLLM,
} from '../shared/managed/reconciler-test-bed.ts';
import { ownerMetadata, OWNER_KEY } from '../shared/ownership.ts';
import type { KeyRouting } from './key-routing.ts';
import { VirtualKeyReconciler } from './reconciler.ts';
import { KEY_SECRET_TARGET } from './targets.ts';

const RESYNC_MS = 60_000;
const NS = 'ns-a';
const request = { namespace: NS, name: 'chatbot' };
const MODEL = 'granite-3-8b';

let litellm: LiteLLMTestServer;
beforeAll(async () => {
  litellm = await startLiteLLM();
});
afterAll(async () => {
  await litellm.stop();
});
afterEach(() => litellm.reset());

/** The routing publisher, in memory; `down` answers as the publisher does while Redis is. */
class MemoryRouting implements KeyRouting {
  readonly records = new Map<string, KeyPolicy>();
  down = false;
  async putKey(policy: KeyPolicy): Promise<void> {
    this.#check();
    this.records.set(policy.keyHash, policy);
  }
  async removeKey(keyHash: string): Promise<void> {
    this.#check();
    this.records.delete(keyHash);
  }
  #check(): void {
    if (!this.down) return;
    const error = new Error('Redis is unavailable');
    error.name = 'RoutingUnavailableError';
    throw error;
  }
}

/** The fake, counting live reads (GETs the API server would answer). */
class CountingKubeClient extends FakeKubeClient {
  reads = 0;
  override read<T extends KubeObject>(kind: Kind, ref: ObjectRef): Promise<T | undefined> {
    this.reads++;
    return super.read<T>(kind, ref);
  }
}

const synced = (type: string) => ({
  type,
  status: 'True',
  reason: type,
  message: '',
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

function bed(options: { teamSynced?: boolean } = {}) {
  const kube = new CountingKubeClient();
  const team = aTeam('ml').with('spec.namespaces', [NS]).build<Team>();
  kube.seed({
    ...team,
    status:
      options.teamSynced === false
        ? {}
        : { teamId: 'ml', models: [MODEL], conditions: [synced('Synced'), synced('Ready')] },
  } as Team);
  const subscription = aModelSubscription('granite').inNamespace(NS).build<ModelSubscription>();
  kube.seed({ ...subscription, status: { phase: 'Active', team: 'ml' } } as ModelSubscription);
  kube.seed(aVirtualKey('chatbot').inNamespace(NS).build<VirtualKey>());
  litellm.store.newTeam({ team_id: 'ml', models: [MODEL] });
  const stores = {
    keys: kube.storeFor<VirtualKey>(VIRTUAL_KEY_TARGET),
    teams: kube.storeFor<Team>(TEAM_TARGET),
    users: kube.storeFor<User>(USER_TARGET),
    subscriptions: kube.storeFor<ModelSubscription>(MODEL_SUBSCRIPTION_TARGET),
  };
  const routing = new MemoryRouting();
  const reconciler = new VirtualKeyReconciler({
    kube,
    litellm: litellmClient(litellm),
    stores,
    routing,
    recorder: new EventRecorder(kube, { reportingController: 'llmtenancy.dev/operator' }),
    gatewayUrl: 'https://gateway.example/v1',
    resyncIntervalMs: RESYNC_MS,
    installationId: INSTALLATION,
    random: () => 0,
  });
  const key = () => stores.keys.getByName('chatbot', NS);
  const secret = async () => kube.get<V1Secret & KubeObject>(KEY_SECRET_TARGET, request);
  const value = async () =>
    Buffer.from((await secret())!.data!.OPENAI_API_KEY!, 'base64').toString('utf8');
  const reconcile = () => reconciler.reconcile(request, reconcileContext());
  return { kube, routing, key, secret, value, reconcile };
}

const ready = (key: VirtualKey | undefined) => getCondition(key?.status?.conditions, 'Ready');
const litellmWrites = () => litellm.calls.snapshot().writes;
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => err,
  );

describe('VirtualKeyReconciler against the fake client and the LiteLLM test server', () => {
  it('mints a key into a new Secret, registers it and publishes it: 4 writes, 1 Event, no read', async () => {
    const { kube, routing, key, value, reconcile } = bed();
    expect(await reconcile()).toEqual({ requeueAfter: RESYNC_MS });
    const hash = hashKey(await value());
    expect(key()!.status?.keyId).toBe(hash);
    expect(ready(key())).toMatchObject({ status: 'True' });
    const row = litellm.store.keys.get(hash)!;
    expect(row.models).toEqual([MODEL]);
    expect(row.metadata).toMatchObject({ [OWNER_KEY]: `VirtualKey/${NS}/chatbot` });
    expect(routing.records.get(hash)?.models).toEqual([MODEL]);
    // The key's hash is recorded in status before its value is written to the Secret.
    expect(objectWrites(kube)).toEqual([
      'mergePatch VirtualKey',
      'replaceStatus VirtualKey',
      'create Secret',
      'replaceStatus VirtualKey',
    ]);
    const events = await eventsIn(kube);
    expect(events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal Minted']);
    expect(events[0]!.note).toContain('registered key');
    expect(kube.reads).toBe(0); // the cache said there is no Secret
    // A value minted just now exists nowhere else: LiteLLM is not asked about it first.
    expect(litellm.calls.snapshot().calls).toEqual({ 'POST /key/generate': 1 });
    // A new key's spend is LiteLLM's 0, in the same status write, so the spend sync's next
    // pass finds nothing to write for it.
    expect(key()!.status?.spend).toBe('0');
    expect(key()!.status?.budget).toBeUndefined();
  });

  it('starts status.spend and status.budget over with a key registered anew', async () => {
    const { kube, key, value, reconcile } = bed();
    const withBudget = { ...key()!, spec: { ...key()!.spec, limits: { maxBudget: '5' } } };
    kube.seed(withBudget as VirtualKey);
    await reconcile();
    expect(key()!.status?.spend).toBe('0');
    expect(key()!.status?.budget).toMatchObject({ maxBudget: '5', usedFraction: '0.0000' });
    // LiteLLM deletes it (a member removed from the team): the fresh key starts at 0 again,
    // whatever the spend sync had written for the old one.
    const hash = hashKey(await value());
    await kube.mergePatchStatus(VIRTUAL_KEY_RESOURCE, request, { status: { spend: '4.2' } });
    litellm.store.archiveKeys([hash]);
    await reconcile();
    expect(hashKey(await value())).not.toBe(hash);
    expect(key()!.status?.spend).toBe('0');
  });

  it('writes nothing anywhere once converged', async () => {
    const { kube, reconcile } = bed();
    await reconcile();
    const [writes, reads, calls] = [kube.writes.length, kube.reads, litellmWrites()];
    const events = (await eventsIn(kube)).length;
    await reconcile();
    expect(kube.writes.length - writes).toBe(0);
    expect(kube.reads - reads).toBe(0);
    expect(litellmWrites() - calls).toBe(0);
    expect((await eventsIn(kube)).length).toBe(events);
  });

  it('corrects a key changed in LiteLLM with the smallest update, and says so', async () => {
    const { kube, value, reconcile } = bed();
    await reconcile();
    const hash = hashKey(await value());
    litellm.store.keys.get(hash)!.models = ['gpt-test'];
    const before = litellm.calls.count('POST', '/key/update');
    await reconcile();
    expect(litellm.store.keys.get(hash)!.models).toEqual([MODEL]);
    expect(litellm.calls.count('POST', '/key/update') - before).toBe(1);
    expect((await eventsIn(kube)).map((e) => e.reason)).toContain('Updated');
  });

  it('records LiteLLMUnavailable in Ready and rethrows for backoff when LiteLLM is down', async () => {
    const { key, reconcile } = bed();
    litellm.faults.add({ status: 503 });
    const error = await failure(reconcile());
    expect(error).toBeInstanceOf(Error);
    expect(isTerminalError(error)).toBe(false);
    expect(ready(key())).toMatchObject({ status: 'False', reason: 'LiteLLMUnavailable' });
    litellm.faults.clear();
    await reconcile();
    expect(ready(key())).toMatchObject({ status: 'True' });
  });

  it('records RoutingUnavailable in Ready and rethrows when Redis is down', async () => {
    const { routing, key, reconcile } = bed();
    routing.down = true;
    const error = (await failure(reconcile())) as Error;
    expect(error.name).toBe('RoutingUnavailableError');
    expect(ready(key())).toMatchObject({ status: 'False', reason: 'RoutingUnavailable' });
    routing.down = false;
    await reconcile();
    expect(ready(key())).toMatchObject({ status: 'True' });
  });

  it('waits for a Team not yet in LiteLLM, showing the team in status, and makes nothing', async () => {
    const { kube, key, reconcile } = bed({ teamSynced: false });
    expect(await reconcile()).toEqual({ requeueAfter: RESYNC_MS });
    expect(ready(key())).toMatchObject({ status: 'False', reason: 'TeamNotReady' });
    expect(key()!.status?.team).toBe('ml');
    expect(objectWrites(kube)).toEqual(['mergePatch VirtualKey', 'replaceStatus VirtualKey']);
    expect(litellmWrites()).toBe(0);
  });

  it('never writes a Secret of the name that is not its own, and records no key for it', async () => {
    const { kube, key, reconcile } = bed();
    const theirs = { name: 'chatbot', namespace: NS };
    const data = { OPENAI_API_KEY: Buffer.from('sk-tenant-own').toString('base64') };
    kube.seed({ apiVersion: 'v1', kind: 'Secret', metadata: theirs, data } as KubeObject);
    expect(await reconcile()).toEqual({ requeueAfter: RESYNC_MS });
    expect(ready(key())).toMatchObject({ status: 'False', reason: 'SecretConflict' });
    expect(key()!.status?.keyId).toBeUndefined();
    expect(objectWrites(kube).filter((w) => w.endsWith('Secret'))).toEqual([]);
    const stored = kube.objectsOf<KubeObject & { data?: unknown }>({
      apiVersion: 'v1',
      kind: 'Secret',
    });
    expect(stored.map((s) => s.data)).toEqual([data]);
    expect(litellmWrites()).toBe(0);
    // And again: status says the name is taken, so it is read live; nothing is written.
    const writes = kube.writes.length;
    await reconcile();
    expect(ready(key())).toMatchObject({ reason: 'SecretConflict' });
    expect(kube.writes.length - writes).toBe(0);
  });

  it('recomputes status from the fresh object after a 409, keeping the recorded key', async () => {
    const { kube, key, value, reconcile } = bed();
    kube.failNext(
      'replaceStatus',
      new KubeApiError(409, { reason: 'Conflict', code: 409 }, 'stale'),
      'VirtualKey',
    );
    await reconcile();
    expect(ready(key())).toMatchObject({ status: 'True' });
    expect(key()!.status?.keyId).toBe(hashKey(await value()));
    expect(objectWrites(kube).filter((w) => w === 'create Secret')).toHaveLength(1);
  });

  it('deletes its keys in LiteLLM and their gateway records before the finalizer goes', async () => {
    const { kube, routing, key, value, reconcile } = bed();
    await reconcile();
    const hash = hashKey(await value());
    await kube.delete(VIRTUAL_KEY_RESOURCE, request);
    await reconcile();
    expect(litellm.store.keys.has(hash)).toBe(false);
    expect(routing.records.has(hash)).toBe(false);
    expect(key()).toBeUndefined();
    expect((await eventsIn(kube)).map((e) => e.reason)).toContain('Deleted');
  });

  it('never takes over a LiteLLM key that names another object, nor deletes it', async () => {
    const { kube, key, value, reconcile } = bed();
    await reconcile();
    const hash = hashKey(await value());
    const theirs = ownerMetadata({
      kind: 'VirtualKey',
      namespace: NS,
      name: 'other',
      uid: 'someone-else',
      installation: INSTALLATION,
    });
    litellm.store.keys.get(hash)!.metadata = { ...theirs };
    litellm.store.keys.get(hash)!.models = ['gpt-test'];
    const calls = litellmWrites();
    expect(await reconcile()).toEqual({ requeueAfter: RESYNC_MS });
    expect(ready(key())).toMatchObject({ status: 'False', reason: 'LiteLLMKeyConflict' });
    expect(litellmWrites() - calls).toBe(0);
    await kube.delete(VIRTUAL_KEY_RESOURCE, request);
    await reconcile();
    expect(litellm.store.keys.get(hash)?.metadata).toEqual(theirs);
    expect(litellm.store.keys.get(hash)?.models).toEqual(['gpt-test']);
    expect((await eventsIn(kube)).map((e) => e.reason)).toContain('KeyNotOwned');
  });
});
