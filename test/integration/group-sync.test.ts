// Group sync end to end, against the test bed's stand-in for OpenShift's user.openshift.io/v1
// Group: Teams naming a group follow its users within seconds; an emptied or vanished group
// keeps its former users through the grace period; the optional mode keeps one Team per
// selected Group and retires it only after its Group has been gone for the grace period.
import type { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openShiftGroupsServed } from '../../operator/src/controllers/group-sync/group-api.ts';
import {
  GROUP_LABEL,
  GROUP_NAME_ANNOTATION,
  GROUP_SYNC_FIELD_MANAGER,
} from '../../operator/src/controllers/group-sync/group-team.ts';
import { teamNameForGroup } from '../../contracts/identity/team-object-name.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  conditionOf,
  litellmMembers,
  Objects,
  poll,
  startTestOperator,
  suffix,
  TEST_RUN_LABEL,
  type TestOperator,
} from './support/team-operator.ts';

const GRACE_MS = 3_000;

describe('OpenShift Group API detection', () => {
  it('finds the Group API where it is served, and says once that group sync is off where not', async () => {
    const kc = kubeConfigFromInject();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    expect(await openShiftGroupsServed(kc, logger)).toBe(true);
    expect(lines).toEqual([]);
    expect(
      await openShiftGroupsServed(kc, logger, {
        apiVersion: 'user.openshift.io/v9',
        kind: 'Group',
      }),
    ).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('group sync is off');
  });
});

describe('Teams naming a group', () => {
  const run = suffix();
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: TestOperator;
  let objects: Objects;
  const n = (name: string) => `${name}-${run}`;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-groups-test', models: ['granite-3-8b'] });
    objects = new Objects(kc, { [TEST_RUN_LABEL]: run });
    operator = await startTestOperator({
      kc,
      litellm,
      teamLabelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: 60_000, // group changes must arrive through the watch, not the resync
      groupGracePeriodMs: GRACE_MS,
      openShiftGroupsAvailable: true,
    });
  });
  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
  });

  it('follow its users within seconds, OpenShift logins mapped to Users', async () => {
    const [alice, bob] = [n('alice'), n('bob')];
    const carol = n('carol');
    const carolLogin = `Carol.${run}@Example.com`;
    await objects.createReadyUser(alice);
    await objects.createReadyUser(bob);
    await objects.createReadyUser(carol, {
      identity: { issuer: 'https://oauth.example.com', subject: carolLogin },
    });
    const group = n('ml-eng');
    await objects.createGroup(group, [alice]);
    const name = n('follows');
    await objects.createTeam(name, { groups: [group], members: [{ user: bob, role: 'admin' }] });
    await expect
      .poll(() => litellmMembers(litellm, name), poll)
      .toEqual([`${alice}:user`, `${bob}:admin`]);

    await objects.setGroupUsers(group, [alice, bob, carolLogin]);
    await expect
      .poll(() => litellmMembers(litellm, name), poll)
      .toEqual([`${alice}:user`, `${bob}:admin`, `${carol}:user`].sort());
    // Status is written after LiteLLM's members (team reconciler): polled, not read once.
    await expect
      .poll(async () => (await objects.team(name))?.status?.members, poll)
      .toContainEqual({ user: bob, role: 'admin', source: `spec, group:${group}` });
    const team = (await objects.team(name))!;
    expect(team.status?.groups).toEqual([{ name: group, state: 'Found', users: 3 }]);

    await objects.setGroupUsers(group, [carolLogin]);
    await expect
      .poll(() => litellmMembers(litellm, name), poll)
      .toEqual([`${bob}:admin`, `${carol}:user`]);
  });

  it('keep the users of a group that empties until the grace period ends, saying so', async () => {
    const [dave, erin] = [n('dave'), n('erin')];
    await objects.createReadyUser(dave);
    await objects.createReadyUser(erin);
    const group = n('empties');
    await objects.createGroup(group, [dave, erin]);
    const name = n('held');
    await objects.createTeam(name, { groups: [group] });
    await expect
      .poll(() => litellmMembers(litellm, name), poll)
      .toEqual([`${dave}:user`, `${erin}:user`]);

    await objects.setGroupUsers(group, null);
    const groupsHeld = async () =>
      (await objects.team(name))?.status?.conditions?.find((c) => c.type === 'GroupsHeld');
    await expect.poll(async () => (await groupsHeld())?.status, poll).toBe('True');
    expect((await groupsHeld())!.message).toContain(`group ${group} is empty since`);
    expect(litellmMembers(litellm, name)).toEqual([`${dave}:user`, `${erin}:user`]);
    expect((await objects.team(name))!.status?.groups).toMatchObject([
      { name: group, state: 'Empty' },
    ]);

    // After the grace period (the reconcile is requeued for it; the resync is a minute away).
    await expect.poll(() => litellmMembers(litellm, name), poll).toEqual([]);
    await expect.poll(async () => (await groupsHeld())?.status, poll).toBe('False');
    expect(conditionOf(await objects.team(name), 'Ready')).toBe('True/Reconciled');
  });
});

describe('group sync: one Team per selected Group', () => {
  const run = suffix();
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: TestOperator;
  let objects: Objects;
  const n = (name: string) => `${name}-${run}`;
  const selected = { 'llmtenancy.dev/sync': 'on' };

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-group-sync-test', models: ['granite-3-8b'] });
    objects = new Objects(kc, { [TEST_RUN_LABEL]: run });
    operator = await startTestOperator({
      kc,
      litellm,
      // The Teams group sync creates carry its label, not the test's.
      teamLabelSelector: GROUP_LABEL,
      resyncIntervalMs: 60_000,
      groupGracePeriodMs: GRACE_MS,
      openShiftGroupsAvailable: true,
      groupSyncSelector: `${TEST_RUN_LABEL}=${run},llmtenancy.dev/sync=on`,
    });
  });
  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
  });

  it('creates a Team for each selected Group, named from it, and leaves the others alone', async () => {
    const alice = n('s-alice');
    await objects.createReadyUser(alice);
    const [plain, odd, ignored] = [n('research'), `data.sci-${run}`, n('not-selected')];
    await objects.createGroup(plain, [alice], selected);
    await objects.createGroup(odd, [alice], selected);
    await objects.createGroup(ignored, [alice]);

    await expect
      .poll(() => objects.team(plain).then((t) => conditionOf(t, 'Ready')), poll)
      .toBe('True/Reconciled');
    const team = (await objects.team(plain))!;
    expect(team.metadata.labels?.[GROUP_LABEL]).toBe(plain);
    expect(team.metadata.annotations?.[GROUP_NAME_ANNOTATION]).toBe(plain);
    expect(team.spec.groups).toEqual([plain]);
    expect(team.metadata.managedFields?.map((f) => f.manager)).toContain(GROUP_SYNC_FIELD_MANAGER);
    expect(litellmMembers(litellm, plain)).toEqual([`${alice}:user`]);

    const oddName = teamNameForGroup(odd);
    expect(oddName).not.toBe(odd);
    await expect.poll(() => objects.team(oddName).then((t) => t?.spec.groups), poll).toEqual([odd]);
    await expect.poll(() => litellmMembers(litellm, oddName), poll).toEqual([`${alice}:user`]);

    // Admins extend the Team with their own fields; group sync keeps to its own.
    await objects.patchTeam(plain, { spec: { namespaces: [plain], limits: { tpm: 5 } } });
    await expect.poll(() => litellm.store.teams.get(plain)?.tpm_limit, poll).toBe(5);
    expect((await objects.team(plain))!.spec.namespaces).toEqual([plain]);

    expect(await objects.team(teamNameForGroup(ignored))).toBeUndefined();
  });

  it('keeps the Team of a vanished Group through the grace period, then deletes it and its LiteLLM team', async () => {
    const bob = n('s-bob');
    await objects.createReadyUser(bob);
    const group = n('vanishes');
    await objects.createGroup(group, [bob], selected);
    await expect.poll(() => litellmMembers(litellm, group), poll).toEqual([`${bob}:user`]);

    await objects.deleteGroup(group);
    await expect
      .poll(() => objects.team(group).then((t) => t?.status?.groups?.[0]?.state), poll)
      .toBe('Missing');
    const team = (await objects.team(group))!;
    expect(conditionOf(team, 'GroupsHeld')).toBe('True/GroupEmptyOrMissing');
    expect(team.metadata.deletionTimestamp).toBeUndefined();
    expect(litellmMembers(litellm, group)).toEqual([`${bob}:user`]);

    await expect.poll(() => objects.team(group), poll).toBeUndefined();
    expect(litellm.store.teams.has(group)).toBe(false);
  });

  it('never deletes the Team of a Group that only emptied', async () => {
    const carol = n('s-carol');
    await objects.createReadyUser(carol);
    const group = n('empties');
    await objects.createGroup(group, [carol], selected);
    await expect.poll(() => litellmMembers(litellm, group), poll).toEqual([`${carol}:user`]);

    await objects.setGroupUsers(group, []);
    await expect.poll(() => litellmMembers(litellm, group), poll).toEqual([]);
    await expect
      .poll(() => objects.team(group).then((t) => conditionOf(t, 'GroupsHeld')), poll)
      .toBe('False/GroupsFollowed');
    // Well past the grace period: still there.
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
    expect((await objects.team(group))?.metadata.deletionTimestamp).toBeUndefined();
    expect(litellm.store.teams.has(group)).toBe(true);
  });
});
