// Teams created at a login (SIGNIN_AUTO_CREATE_TEAMS, SIGNIN_TEAM_GROUPS) against a real
// OpenID provider, the real API server with the chart's gateway RBAC (create on Teams), and
// the User and Team controllers: off by default nothing is created; on, the first login of a
// person in a matching group creates that group's Team and answers only once the User is
// Ready and a member of it in LiteLLM; a Team of that name an admin wrote is left exactly as
// it was; a group outside the patterns gets nothing; hostile group names get a valid, stable
// name, or no Team and a clear log line when no Team can name the group.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { teamNameForGroup } from '../../contracts/identity/team-object-name.ts';
import type { Team, User } from '../../crds/api/index.ts';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { ClusterObjects } from './support/cluster-objects.ts';
import {
  Browser,
  customObjects,
  finishLogin,
  signIn,
  startLogin,
  startSigninBed,
  type SigninBed,
} from './support/signin-bed.ts';
import { poll, TEST_RUN_LABEL } from './support/user-operator.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('Teams created at sign-in', () => {
  let bed: SigninBed;
  let off: RunningGateway;
  let on: RunningGateway;
  let users: ClusterObjects<User>;
  let teams: ClusterObjects<Team>;
  const group = (stem: string) => `team-${bed.run}-${stem}`;

  beforeAll(async () => {
    bed = await startSigninBed({ createTeams: true });
    const labels = { [TEST_RUN_LABEL]: bed.run };
    users = new ClusterObjects<User>(customObjects(bed.admin), 'User', 'users', labels);
    teams = new ClusterObjects<Team>(customObjects(bed.admin), 'Team', 'teams', labels);
    off = await bed.startGateway();
    on = await bed.startGateway({
      SIGNIN_AUTO_CREATE_TEAMS: 'true',
      SIGNIN_TEAM_GROUPS: `team-${bed.run}-*,*.${bed.run}.*`,
    });
  });
  afterAll(async () => {
    await bed?.stop();
  });

  const person = (login: string, groups: string[]) =>
    bed.oidc.users.set(login, { sub: login, email: `${login}@example.com`, groups });

  it('creates no Team when SIGNIN_AUTO_CREATE_TEAMS is not set', async () => {
    const g = group('quiet');
    const login = `quiet-${bed.run}`;
    person(login, [g]);
    await signIn(off, login);
    expect((await users.get(login))?.spec?.groups).toEqual([g]);
    expect(await teams.get(teamNameForGroup(g))).toBeUndefined();
  });

  it("creates the Team of a person's group at their first login and answers once they are in it", async () => {
    const g = group('g');
    const login = `first-${bed.run}`;
    person(login, [g]);
    expect(await teams.get(teamNameForGroup(g))).toBeUndefined();

    // LiteLLM is slow to make the team: the User is Ready in LiteLLM well before the Team is,
    // and the login must still wait for the membership.
    const slow = bed.litellm.faults.add({ route: '/team/new', latencyMs: 2000, times: 1 });
    const browser = new Browser();
    const res = await finishLogin(on, browser, await startLogin(on, browser, login));
    bed.litellm.faults.clear(slow.id);
    expect(slow.hits).toBe(1);
    // At the moment the callback answers: the Team exists, and the User is Ready in it.
    const team = await teams.get(g);
    const user = await users.get(login);
    expect(res.status).toBe(303);
    expect(team?.spec).toMatchObject({ groups: [g] });
    expect(team?.spec?.namespaces).toBeUndefined();
    expect(team?.metadata.labels).toMatchObject({ 'llmtenancy.dev/created-by': 'signin' });
    expect(team?.metadata.annotations).toMatchObject({ 'llmtenancy.dev/group-name': g });
    expect(team?.metadata.managedFields?.map((f) => [f.manager, f.operation])).toContainEqual([
      'llm-tenancy-gateway',
      'Update',
    ]);
    expect(user?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(user?.status?.teams).toEqual([g]);
    expect(bed.litellm.store.users.get(user!.status!.userId!)?.teams).toEqual([g]);
    expect(
      bed.audit.filter((r) => r.action === 'signin.team.create' && r.object?.name === g),
    ).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ type: 'person', name: login }),
        object: { kind: 'Team', name: g, uid: team!.metadata.uid },
        changes: { groups: [g] },
        result: { outcome: 'ok' },
      }),
    ]);

    // A second person of the group: the same Team, not a new one, and they are in it too.
    const second = `second-${bed.run}`;
    person(second, [g]);
    await signIn(on, second);
    expect((await teams.get(g))?.metadata.uid).toBe(team!.metadata.uid);
    expect((await users.get(second))?.status?.teams).toEqual([g]);
  });

  it('leaves a Team of the same name that an admin wrote exactly as it was', async () => {
    const g = group('taken');
    await teams.create(g, {
      displayName: 'Written by an admin',
      groups: [`admins-own-${bed.run}`],
      models: ['granite'],
    });
    await expect
      .poll(async () => {
        const t = await teams.get(g);
        const ready = t?.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'True' && t?.status?.observedGeneration === t?.metadata.generation;
      }, poll)
      .toBe(true);
    const before = (await teams.get(g))!;

    const login = `taken-${bed.run}`;
    person(login, [g]);
    await signIn(on, login);
    const after = (await teams.get(g))!;
    expect(after.spec).toEqual(before.spec);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.labels).toEqual(before.metadata.labels);
    expect(after.metadata.managedFields?.map((f) => f.manager)).not.toContain(
      'llm-tenancy-gateway',
    );
    // The person is not made a member of a Team that does not name their group.
    expect((await users.get(login))?.status?.teams).toBeUndefined();
  });

  it('creates nothing for a group outside SIGNIN_TEAM_GROUPS', async () => {
    const g = `other-${bed.run}`;
    const login = `outside-${bed.run}`;
    person(login, [g]);
    await signIn(on, login);
    expect((await users.get(login))?.spec?.groups).toEqual([g]);
    expect(await teams.get(teamNameForGroup(g))).toBeUndefined();
    expect(
      bed.audit.filter(
        (r) => r.action === 'signin.team.create' && JSON.stringify(r.actor).includes(login),
      ),
    ).toEqual([]);
  });

  it('gives a hostile group name a valid, stable Team name, and no Team to a group no Team can name', async () => {
    const dotted = `Eng.Platform.${bed.run}.ML_Ops`;
    const huge = `${'X'.repeat(290)}.${bed.run}.z`;
    expect(huge.length).toBeGreaterThan(253);
    const login = `hostile-${bed.run}`;
    person(login, [dotted, huge]);
    await signIn(on, login);

    const name = teamNameForGroup(dotted);
    expect(name).toMatch(DNS_LABEL);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(new RegExp(`^eng-platform-${bed.run}-ml-ops-[0-9a-f]{8}$`));
    const team = await teams.get(name);
    expect(team?.spec?.groups).toEqual([dotted]);
    expect((await users.get(login))?.status?.teams).toEqual([name]);
    // The 300-character group: the CRD could not name it in spec.groups, so no Team, and why.
    expect(await teams.get(teamNameForGroup(huge))).toBeUndefined();
    expect(bed.logs.join('')).toContain('no Team for this group: a Team cannot name it');

    // Signing in again: the same name, the same Team.
    await signIn(on, login);
    expect((await teams.get(name))?.metadata.uid).toBe(team!.metadata.uid);
    expect(teamNameForGroup(dotted)).toBe(name);
  });
});
