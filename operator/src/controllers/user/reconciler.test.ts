// The User reconciler against the fake KubeClient and the in-process LiteLLM test server:
// what it writes in Kubernetes and in LiteLLM for each situation, and what it writes when
// nothing changed (nothing).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Team, User } from '../../../../crds/api/index.ts';
import { aUser } from '../../../../test/fixtures/builders.ts';
import type { LiteLLMTestServer } from '../../../../test/litellm-server/server.ts';
import { getCondition } from '../../runtime/conditions.ts';
import { EventRecorder } from '../../runtime/events.ts';
import { FakeKubeClient } from '../../runtime/fake-kube-client.ts';
import { Finalizers } from '../../runtime/finalizers.ts';
import { KubeApiError } from '../../runtime/kube-http.ts';
import { isTerminalError } from '../../runtime/result.ts';
import { StatusWriter } from '../../runtime/status.ts';
import { TEAM_TARGET, USER_RESOURCE, USER_TARGET } from '../shared/kinds.ts';
import {
  eventsIn,
  INSTALLATION,
  litellmClient,
  objectWrites,
  reconcileContext,
  startLiteLLM,
} from '../shared/managed/reconciler-test-bed.ts';
import { ownerMetadata, OWNER_KEY, OWNER_UID_KEY } from '../shared/ownership.ts';
import { RELEASED_KEY } from '../shared/released.ts';
import { USER_CONFLICT } from './user-client.ts';
import { USER_FIELD_MANAGER, UserReconciler } from './reconciler.ts';

const RESYNC_MS = 60_000;
const request = { name: 'alice' };

let litellm: LiteLLMTestServer;
beforeAll(async () => {
  litellm = await startLiteLLM();
});
afterAll(async () => {
  await litellm.stop();
});
afterEach(() => litellm.reset());

function bed(edit: (user: ReturnType<typeof aUser>) => ReturnType<typeof aUser> = (u) => u) {
  const kube = new FakeKubeClient();
  kube.seed(edit(aUser('alice')).build<User>());
  const users = kube.storeFor<User>(USER_TARGET);
  const recorder = new EventRecorder(kube, { reportingController: 'llmtenancy.dev/operator' });
  const reconciler = new UserReconciler({
    users,
    teams: kube.storeFor<Team>(TEAM_TARGET),
    litellm: litellmClient(litellm),
    statusWriter: new StatusWriter(kube, { fieldManager: USER_FIELD_MANAGER }),
    finalizers: new Finalizers(kube, { fieldManager: USER_FIELD_MANAGER, recorder }),
    events: recorder,
    userResource: USER_RESOURCE,
    resyncIntervalMs: RESYNC_MS,
    installationId: INSTALLATION,
  });
  const user = () => users.getByName('alice');
  const reconcile = () => reconciler.reconcile(request, reconcileContext());
  return { kube, user, reconcile };
}

const ready = (user: User | undefined) => getCondition(user?.status?.conditions, 'Ready');
const litellmWrites = () => litellm.calls.snapshot().writes;

describe('UserReconciler against the fake client and the LiteLLM test server', () => {
  it('creates the LiteLLM user with our metadata, then Ready, with one finalizer patch and one status write', async () => {
    const { kube, user, reconcile } = bed();
    const result = await reconcile();
    expect(result.requeueAfter).toBeGreaterThanOrEqual(RESYNC_MS);
    const row = litellm.store.users.get('alice')!;
    expect(row.user_email).toBe('alice@example.com');
    expect(row.metadata).toMatchObject({
      [OWNER_KEY]: 'User/alice',
      [OWNER_UID_KEY]: user()!.metadata.uid,
    });
    expect(ready(user())).toMatchObject({ status: 'True' });
    expect(objectWrites(kube)).toEqual(['mergePatch User', 'replaceStatus User']);
  });

  it('writes nothing anywhere once converged', async () => {
    const { kube, reconcile } = bed();
    await reconcile();
    const [writes, calls] = [kube.writes.length, litellmWrites()];
    const events = (await eventsIn(kube)).length;
    await reconcile();
    expect(kube.writes.length - writes).toBe(0);
    expect(litellmWrites() - calls).toBe(0);
    expect((await eventsIn(kube)).length).toBe(events);
  });

  it('corrects drift made in LiteLLM', async () => {
    const { reconcile } = bed((u) => u.with('spec.displayName', 'Alice'));
    await reconcile();
    litellm.store.users.get('alice')!.user_alias = 'edited by an admin';
    const before = litellm.calls.count('POST', '/user/update');
    await reconcile();
    expect(litellm.store.users.get('alice')!.user_alias).toBe('Alice');
    expect(litellm.calls.count('POST', '/user/update') - before).toBe(1);
  });

  it('records LiteLLMUnavailable in Ready and rethrows for backoff when LiteLLM is down', async () => {
    const { user, reconcile } = bed();
    litellm.faults.add({ status: 503 });
    const error = await reconcile().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(Error);
    expect(isTerminalError(error)).toBe(false);
    expect(ready(user())).toMatchObject({ status: 'False', reason: 'LiteLLMUnavailable' });
    litellm.faults.clear();
    await reconcile();
    expect(ready(user())).toMatchObject({ status: 'True' });
  });

  it('recomputes status from the fresh object after a 409 and writes it once', async () => {
    const { kube, user, reconcile } = bed();
    kube.failNext(
      'replaceStatus',
      new KubeApiError(409, { reason: 'Conflict', code: 409 }, 'stale'),
      'User',
    );
    await reconcile();
    expect(ready(user())).toMatchObject({ status: 'True' });
    expect(objectWrites(kube).filter((w) => w === 'replaceStatus User')).toHaveLength(1);
  });

  it('deletes the LiteLLM user before the finalizer goes (deletionPolicy Delete)', async () => {
    const { kube, user, reconcile } = bed();
    await reconcile();
    await kube.delete(USER_RESOURCE, request);
    await reconcile();
    expect(litellm.store.users.has('alice')).toBe(false);
    expect(user()).toBeUndefined();
  });

  it('leaves the LiteLLM user, marked released, with deletionPolicy Orphan', async () => {
    const { kube, user, reconcile } = bed((u) => u.with('spec.deletionPolicy', 'Orphan'));
    await reconcile();
    await kube.delete(USER_RESOURCE, request);
    await reconcile();
    expect(litellm.store.users.get('alice')?.metadata).toHaveProperty([RELEASED_KEY]);
    expect(user()).toBeUndefined();
  });

  it('refuses to adopt a LiteLLM user another object owns, and touches nothing of it', async () => {
    const { kube, user, reconcile } = bed();
    const theirs = ownerMetadata({
      kind: 'User',
      name: 'alice',
      uid: 'someone-else',
      installation: 'install-b',
    });
    litellm.store.newUser({
      user_id: 'alice',
      user_email: 'alice@example.com',
      metadata: { ...theirs },
    });
    await reconcile();
    expect(ready(user())).toMatchObject({ status: 'False', reason: USER_CONFLICT });
    expect(litellmWrites()).toBe(0);
    await kube.delete(USER_RESOURCE, request);
    await reconcile();
    expect(litellm.store.users.get('alice')?.metadata).toEqual(theirs);
  });
});
