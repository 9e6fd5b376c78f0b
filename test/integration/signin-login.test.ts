// Sign-in through the gateway against a real OpenID provider, the real API server and the
// User and Team controllers: the first login creates the User and answers only once LiteLLM
// has it with its teams; groups give the role and the teams, and a group removed at the
// provider is a team removed at the next login; a callback that is replayed, carries another
// state or nonce, or brings a code issued to another client is refused with a clear error;
// with AUTO_PROVISION off only people who have a User get in; a name taken by another
// identity is refused; a User never Ready gives the "being set up" page.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Team, User } from '../../crds/api/index.ts';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { authorizeAs } from '../harness/oidc-login.ts';
import { ClusterObjects } from './support/cluster-objects.ts';
import { KubeTransport } from '../../contracts/kube/kube-transport.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import {
  Browser,
  customObjects,
  finishLogin,
  LOGIN_COOKIE,
  sessionOf,
  signIn,
  startLogin,
  startSigninBed,
  type SigninBed,
} from './support/signin-bed.ts';
import { poll, TEST_RUN_LABEL } from './support/user-operator.ts';

const OTHER_CLIENT = {
  clientId: 'another-app',
  clientSecret: 'another-app-secret',
  redirectUri: 'http://127.0.0.1/another-app/callback',
};

describe('sign-in with an OpenID provider', () => {
  let bed: SigninBed;
  let gateway: RunningGateway;
  let users: ClusterObjects<User>;
  let teams: ClusterObjects<Team>;
  let redis: Redis;
  const name = (stem: string) => `${stem}-${bed.run}`;

  beforeAll(async () => {
    bed = await startSigninBed({ extraClients: [OTHER_CLIENT] });
    const labels = { [TEST_RUN_LABEL]: bed.run };
    users = new ClusterObjects<User>(customObjects(bed.admin), 'User', 'users', labels);
    teams = new ClusterObjects<Team>(customObjects(bed.admin), 'Team', 'teams', labels);
    gateway = await bed.startGateway({ ROLE_GROUPS: `admin=${'platform-admins'};viewer=auditors` });
    redis = new Redis(bed.redisUrl);
  });
  afterAll(async () => {
    redis?.disconnect();
    await bed?.stop();
  });

  const person = (login: string, groups: string[]) =>
    bed.oidc.users.set(login, {
      sub: login,
      email: `${login}@example.com`,
      name: `Person ${login}`,
      groups,
    });

  async function readyTeam(team: string, groups: string[]) {
    await teams.create(team, { groups, models: ['granite'] });
    await expect
      .poll(
        async () =>
          (await teams.get(team))?.status?.conditions?.find((c) => c.type === 'Ready')?.status,
        poll,
      )
      .toBe('True');
  }

  it('creates the User at the first login and answers only once LiteLLM has it with its teams', async () => {
    const team = name('ml');
    const login = name('alice');
    await readyTeam(team, [`ml-${bed.run}`]);
    person(login, [`ml-${bed.run}`, 'platform-admins']);

    const browser = new Browser();
    const callback = await startLogin(gateway, browser, login, '/ui/keys');
    const res = await finishLogin(gateway, browser, callback);
    // At the moment the callback answers: the User is Ready, and LiteLLM has it in its team.
    const user = await users.get(login);
    const litellmUser = bed.litellm.store.users.get(user!.status!.userId!);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui/keys');
    expect(user?.spec).toMatchObject({
      email: `${login}@example.com`,
      displayName: `Person ${login}`,
      role: 'admin',
      groups: [`ml-${bed.run}`, 'platform-admins'].sort(),
      identity: { issuer: bed.oidc.issuer, subject: login },
    });
    expect(user?.metadata.managedFields?.map((f) => f.manager)).toContain('llm-tenancy-gateway');
    expect(user?.status?.teams).toEqual([team]);
    expect(litellmUser).toMatchObject({ user_role: 'proxy_admin', teams: [team] });

    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('llmt_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(await sessionOf(gateway, browser)).toMatchObject({
      status: 200,
      body: { via: 'session', user: login, login, role: 'admin', csrfToken: expect.any(String) },
    });

    // One audit record of the sign-in: the person, their User, the role they got; no secret.
    const records = bed.audit.filter(
      (r) => r.action === 'signin.login' && r.actor.type === 'person' && r.actor.name === login,
    );
    expect(records).toEqual([
      {
        time: expect.any(String),
        actor: {
          type: 'person',
          name: login,
          groups: [`ml-${bed.run}`, 'platform-admins'].sort(),
          via: 'session',
        },
        action: 'signin.login',
        object: { kind: 'User', name: login },
        changes: { login, issuer: bed.oidc.issuer, role: 'admin' },
        result: { outcome: 'ok' },
      },
    ]);
    const sessionId = decodeURIComponent(cookie.split(';')[0]!.split('=')[1]!);
    expect(JSON.stringify(bed.audit)).not.toContain(sessionId.replace(/\.[^.]+$/, ''));
  });

  it('takes role and teams from the groups at every login: a group removed is a team removed', async () => {
    const team = name('vision');
    const login = name('bob');
    await readyTeam(team, [`vision-${bed.run}`]);
    person(login, [`vision-${bed.run}`]);
    await signIn(gateway, login);
    expect((await users.get(login))?.spec?.role).toBe('user');
    expect((await users.get(login))?.status?.teams).toEqual([team]);

    person(login, ['auditors']);
    await signIn(gateway, login);
    const user = await users.get(login);
    expect(user?.spec).toMatchObject({ role: 'viewer', groups: ['auditors'] });
    await expect.poll(async () => (await users.get(login))?.status?.teams ?? [], poll).toEqual([]);
    await expect
      .poll(() => bed.litellm.store.users.get(user!.status!.userId!)?.teams ?? [], poll)
      .toEqual([]);
  });

  it('refuses a replayed callback, and one with another state or nonce', async () => {
    const login = name('carol');
    person(login, []);
    const browser = new Browser();
    const callback = await startLogin(gateway, browser, login);
    const loginCookie = browser.cookies.get(LOGIN_COOKIE)!;

    // Another state than the one this login was started with.
    const forgedState = new URL(callback);
    forgedState.searchParams.set('state', 'not-the-state');
    const bad = await finishLogin(gateway, browser, forgedState);
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/state/);

    // The pending login was used up by that attempt: the genuine callback is a replay now.
    browser.cookies.set(LOGIN_COOKIE, loginCookie);
    const replay = await finishLogin(gateway, browser, callback);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({
      error: { type: 'auth_error', message: expect.stringMatching(/expired or was already used/) },
    });

    // A nonce other than the one the ID token carries.
    const second = new Browser();
    const callback2 = await startLogin(gateway, second, login);
    const id = decodeURIComponent(second.cookies.get(LOGIN_COOKIE)!).replace(/\.[^.]+$/, '');
    const key = `${bed.prefix}login:${createHash('sha256').update(id).digest('base64url')}`;
    const pending = JSON.parse((await redis.get(key))!) as { nonce: string };
    await redis.set(key, JSON.stringify({ ...pending, nonce: 'another-nonce' }), 'KEEPTTL');
    const badNonce = await finishLogin(gateway, second, callback2);
    expect(badNonce.status).toBe(401);
    expect(((await badNonce.json()) as { error: { message: string } }).error.message).toMatch(
      /nonce/,
    );

    // Each refusal is in the audit trail, as the error the browser got.
    const refused = bed.audit.filter(
      (r) => r.action === 'signin.login' && r.result.outcome === 'error',
    );
    expect(refused.map((r) => r.result)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          outcome: 'error',
          status: 401,
          message: expect.stringMatching(/state/),
        }),
        expect.objectContaining({
          outcome: 'error',
          status: 401,
          message: expect.stringMatching(/nonce/),
        }),
      ]),
    );

    // And a well-formed one still works, once.
    const third = new Browser();
    const ok = await finishLogin(gateway, third, await startLogin(gateway, third, login));
    expect(ok.status).toBe(303);
    const again = await finishLogin(gateway, third, callback);
    expect(again.status).toBe(400);
  });

  it('refuses a callback bringing a code the provider issued to another client', async () => {
    const login = name('dave');
    person(login, []);
    const browser = new Browser();
    const genuine = await startLogin(gateway, browser, login);
    const other = new URL(`${bed.oidc.issuer}/auth`);
    other.search = new URLSearchParams({
      client_id: OTHER_CLIENT.clientId,
      redirect_uri: OTHER_CLIENT.redirectUri,
      response_type: 'code',
      scope: 'openid',
      state: 'x',
    }).toString();
    const foreign = await authorizeAs(other, login);
    const forged = new URL(genuine);
    forged.searchParams.set('code', foreign.searchParams.get('code')!);
    const res = await finishLogin(gateway, browser, forged);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: {
        type: 'auth_error',
        message: expect.stringMatching(/refused the authorization code/),
      },
    });
    expect(browser.cookies.has('llmt_session')).toBe(false);
  });

  it("waits for the person's Teams, not only for the User to be Ready", async () => {
    // A Ready Team naming the person's group that no controller of this bed reconciles (no
    // test-run label): the User gets Ready without it, and the login must not complete.
    const team = name('unreconciled');
    const group = `unreconciled-${bed.run}`;
    const api = customObjects(bed.admin);
    const created = (await api.createClusterCustomObject({
      group: 'llmtenancy.dev',
      version: 'v1alpha1',
      plural: 'teams',
      body: {
        apiVersion: 'llmtenancy.dev/v1alpha1',
        kind: 'Team',
        metadata: { name: team },
        spec: { groups: [group] },
      },
    })) as Team;
    await api.replaceClusterCustomObjectStatus({
      group: 'llmtenancy.dev',
      version: 'v1alpha1',
      plural: 'teams',
      name: team,
      body: {
        ...created,
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'Reconciled',
              message: 'ready',
              lastTransitionTime: new Date().toISOString(),
            },
          ],
        },
      },
    });
    const waiting = await bed.startGateway({ USER_READY_TIMEOUT: '2s' });
    const login = name('judy');
    person(login, [group]);
    const browser = new Browser();
    const res = await finishLogin(waiting, browser, await startLogin(waiting, browser, login));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      error: {
        message: expect.stringMatching(
          new RegExp(`being set up \\(waiting for the teams ${team}\\)`),
        ),
      },
    });
    // The User itself did get Ready.
    expect(
      (await users.get(login))?.status?.conditions?.find((c) => c.type === 'Ready')?.status,
    ).toBe('True');
    await api.deleteClusterCustomObject({
      group: 'llmtenancy.dev',
      version: 'v1alpha1',
      plural: 'teams',
      name: team,
    });
  });

  it('provisions over a kept-alive connection, not a new one per call', async () => {
    const server = new URL(bed.gatewayKc.getCurrentCluster()!.server);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port) });
    try {
      const kubeConfig = proxy.kubeConfig(bed.gatewayKc);
      const pooled = await bed.startGateway({}, { kubeConfig });
      const logins = [name('kim'), name('lee'), name('max')];
      for (const login of logins) {
        person(login, []);
        await signIn(pooled, login);
      }
      // Each login reads, applies, lists Teams and reads again (4 calls and more) over the
      // gateway's one pool, and may watch (a connection of its own, client-node's Watch): not
      // a handshake a call (the pool opened 1 or 2 here, HTTP/1.1 carrying one request at a
      // time; 9 without it).
      const pool = KubeTransport.of(kubeConfig).connectionsOpened;
      expect(pool).toBeGreaterThan(0);
      expect(pool).toBeLessThanOrEqual(2);
      expect(proxy.connections - pool).toBeLessThanOrEqual(logins.length);
    } finally {
      await proxy.close();
    }
  });

  it('refuses an expired ID token', async () => {
    // The gateway's clock two hours ahead: the provider's one-hour ID token has expired.
    const late = await bed.startGateway({}, { oidcClockSkewSeconds: 7_200 });
    const login = name('ivan');
    person(login, []);
    const browser = new Browser();
    const res = await finishLogin(late, browser, await startLogin(late, browser, login));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: { type: 'auth_error', message: expect.stringMatching(/"exp".*expiration is past/) },
    });
    expect(browser.cookies.has('llmt_session')).toBe(false);
    expect(await users.get(login)).toBeUndefined();
  });

  it('refuses a name that belongs to another identity', async () => {
    const login = name('erin');
    await users.create(login, {
      identity: { issuer: 'https://other-idp.example.com', subject: 'x' },
    });
    person(login, []);
    const browser = new Browser();
    const res = await finishLogin(gateway, browser, await startLogin(gateway, browser, login));
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      error: {
        type: 'permission_error',
        message: expect.stringMatching(/already belongs to another person/),
      },
    });
    expect((await users.get(login))?.spec?.identity?.issuer).toBe('https://other-idp.example.com');
  });

  it('with AUTO_PROVISION off, refuses unknown people and refreshes known ones', async () => {
    const closed = await bed.startGateway({
      AUTO_PROVISION: 'false',
      ROLE_GROUPS: 'manager=leads',
    });
    const stranger = name('frank');
    person(stranger, []);
    const browser = new Browser();
    const res = await finishLogin(closed, browser, await startLogin(closed, browser, stranger), {
      headers: { accept: 'text/html' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/There is no account for .* on this platform yet/);
    expect(await users.get(stranger)).toBeUndefined();

    const known = name('grace');
    await users.create(known, { role: 'user' });
    person(known, ['leads']);
    await signIn(closed, known);
    expect((await users.get(known))?.spec).toMatchObject({ role: 'manager', groups: ['leads'] });
  });

  it('answers "being set up" when the User does not get Ready in time', async () => {
    // Users labelled for no operator: nothing ever makes them Ready.
    const slow = await bed.startGateway(
      { USER_READY_TIMEOUT: '1s' },
      { provisionedUserLabels: { [TEST_RUN_LABEL]: 'nobody' } },
    );
    const login = name('heidi');
    person(login, []);
    const browser = new Browser();
    const started = Date.now();
    const res = await finishLogin(slow, browser, await startLogin(slow, browser, login));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      error: {
        type: 'service_unavailable_error',
        message: expect.stringMatching(/is being set up/),
      },
    });
    expect(browser.cookies.has('llmt_session')).toBe(false);
  });
});
