// The Team reconciler against the fake KubeClient and the in-process LiteLLM test server:
// what it writes in Kubernetes and in LiteLLM for each situation, and what it writes when
// nothing changed (nothing).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModelSubscription, Team, User } from '../../../../crds/api/index.ts';
import { aTeam } from '../../../../test/fixtures/builders.ts';
import type { LiteLLMTestServer } from '../../../../test/litellm-server/server.ts';
import { getCondition } from '../../runtime/conditions.ts';
import { EventRecorder } from '../../runtime/events.ts';
import { FakeKubeClient } from '../../runtime/fake-kube-client.ts';
import { KubeApiError } from '../../runtime/kube-http.ts';
import { isTerminalError } from '../../runtime/result.ts';
import {
  MODEL_SUBSCRIPTION_TARGET,
  TEAM_RESOURCE,
  TEAM_TARGET,
  USER_TARGET,
} from '../shared/kinds.ts';
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
import { TeamReconciler } from './reconciler.ts';

const RESYNC_MS = 60_000;
const request = { name: 'ml' };

let litellm: LiteLLMTestServer;
beforeAll(async () => {
  litellm = await startLiteLLM();
});
afterAll(async () => {
  await litellm.stop();
});
afterEach(() => litellm.reset());

function bed(edit: (team: ReturnType<typeof aTeam>) => ReturnType<typeof aTeam> = (t) => t) {
  const kube = new FakeKubeClient();
  kube.seed(edit(aTeam('ml').with('spec.namespaces', ['ns-a'])).build<Team>());
  const stores = {
    teams: kube.storeFor<Team>(TEAM_TARGET),
    users: kube.storeFor<User>(USER_TARGET),
    subscriptions: kube.storeFor<ModelSubscription>(MODEL_SUBSCRIPTION_TARGET),
  };
  const reconciler = new TeamReconciler({
    kube,
    litellm: litellmClient(litellm),
    stores,
    recorder: new EventRecorder(kube, { reportingController: 'llmtenancy.dev/operator' }),
    resyncIntervalMs: RESYNC_MS,
    groupGracePeriodMs: 60_000,
    installationId: INSTALLATION,
    random: () => 0,
  });
  const team = () => stores.teams.getByName('ml');
  const reconcile = () => reconciler.reconcile(request, reconcileContext());
  return { kube, team, reconcile };
}

const ready = (team: Team | undefined) => getCondition(team?.status?.conditions, 'Ready');
const litellmWrites = () => litellm.calls.snapshot().writes;

describe('TeamReconciler against the fake client and the LiteLLM test server', () => {
  it('creates the LiteLLM team with our metadata, then Ready, with one finalizer patch and one status write', async () => {
    const { kube, team, reconcile } = bed();
    expect(await reconcile()).toEqual({ requeueAfter: RESYNC_MS });
    const row = litellm.store.teams.get('ml')!;
    expect(row.metadata).toMatchObject({
      [OWNER_KEY]: 'Team/ml',
      [OWNER_UID_KEY]: team()!.metadata.uid,
    });
    expect(ready(team())).toMatchObject({ status: 'True' });
    expect(team()!.metadata.finalizers).toEqual(['llmtenancy.dev/cleanup']);
    expect(objectWrites(kube)).toEqual(['mergePatch Team', 'replaceStatus Team']);
    expect((await eventsIn(kube)).map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal Created']);
  });

  it('writes nothing anywhere once converged', async () => {
    const { kube, reconcile } = bed();
    await reconcile();
    const [writes, calls, events] = [
      kube.writes.length,
      litellmWrites(),
      (await eventsIn(kube)).length,
    ];
    expect(await reconcile()).toEqual({ requeueAfter: RESYNC_MS });
    expect(kube.writes.length - writes).toBe(0);
    expect(litellmWrites() - calls).toBe(0);
    expect((await eventsIn(kube)).length).toBe(events);
  });

  it('corrects drift made in LiteLLM with the smallest update, and says so', async () => {
    const { kube, reconcile } = bed((t) => t.with('spec.displayName', 'ML research'));
    await reconcile();
    litellm.store.teams.get('ml')!.team_alias = 'edited by an admin';
    const before = litellm.calls.count('POST', '/team/update');
    await reconcile();
    expect(litellm.store.teams.get('ml')!.team_alias).toBe('ML research');
    expect(litellm.calls.count('POST', '/team/update') - before).toBe(1);
    expect((await eventsIn(kube)).map((e) => e.reason)).toContain('Updated');
  });

  it('records LiteLLMUnavailable in Ready and rethrows for backoff when LiteLLM is down', async () => {
    const { kube, team, reconcile } = bed();
    litellm.faults.add({ status: 503 });
    const error = await reconcile().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(Error);
    expect(isTerminalError(error)).toBe(false); // retried with backoff
    expect(ready(team())).toMatchObject({ status: 'False', reason: 'LiteLLMUnavailable' });
    expect((await eventsIn(kube)).map((e) => `${e.type} ${e.reason}`)).toContain(
      'Warning LiteLLMUnavailable',
    );
    litellm.faults.clear();
    await reconcile();
    expect(ready(team())).toMatchObject({ status: 'True' });
  });

  it('recomputes status from the fresh object after a 409 and writes it once', async () => {
    const { kube, team, reconcile } = bed();
    kube.failNext(
      'replaceStatus',
      new KubeApiError(409, { reason: 'Conflict', code: 409 }, 'stale'),
      'Team',
    );
    await reconcile();
    expect(ready(team())).toMatchObject({ status: 'True' });
    expect(objectWrites(kube).filter((w) => w === 'replaceStatus Team')).toHaveLength(1);
  });

  it('deletes the LiteLLM team before the finalizer goes (deletionPolicy Delete)', async () => {
    const { kube, team, reconcile } = bed();
    await reconcile();
    await kube.delete(TEAM_RESOURCE, request);
    await reconcile();
    expect(litellm.store.teams.has('ml')).toBe(false);
    expect(team()).toBeUndefined();
    expect((await eventsIn(kube)).map((e) => e.reason)).toContain('Deleted');
  });

  it('leaves the LiteLLM team, marked released, with deletionPolicy Orphan', async () => {
    const { kube, team, reconcile } = bed((t) => t.with('spec.deletionPolicy', 'Orphan'));
    await reconcile();
    await kube.delete(TEAM_RESOURCE, request);
    await reconcile();
    expect(litellm.store.teams.get('ml')?.metadata).toHaveProperty([RELEASED_KEY]);
    expect(team()).toBeUndefined();
    expect((await eventsIn(kube)).map((e) => e.reason)).toContain('Orphaned');
  });

  it('refuses to adopt a LiteLLM team another object owns, and touches nothing of it', async () => {
    const { kube, team, reconcile } = bed();
    const theirs = ownerMetadata({
      kind: 'Team',
      name: 'ml',
      uid: 'someone-else',
      installation: 'install-b',
    });
    litellm.store.newTeam({ team_id: 'ml', metadata: { ...theirs }, team_alias: 'theirs' });
    expect(await reconcile()).toEqual({ requeueAfter: RESYNC_MS });
    expect(ready(team())).toMatchObject({ status: 'False', reason: 'LiteLLMTeamConflict' });
    expect(litellmWrites()).toBe(0);
    expect(litellm.store.teams.get('ml')!.metadata).toEqual(theirs);
    // Deleting our Team leaves their team alone.
    await kube.delete(TEAM_RESOURCE, request);
    await reconcile();
    expect(litellm.store.teams.has('ml')).toBe(true);
    expect(objectWrites(kube).at(-1)).toBe('mergePatch Team');
  });
});
