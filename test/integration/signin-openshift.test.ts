// Sign-in with OpenShift OAuth (OAuth 2, no ID token) against an OpenShift-shaped test server
// (test/harness/openshift-oauth.ts): endpoints discovered from the API server, code + PKCE,
// the person and their groups from users/~; the User gets the OAuth server as its issuer and
// the OpenShift user's uid as its subject. A code stolen from another login, a denied
// authorization and a token users/~ refuses are each refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Team, User } from '../../crds/api/index.ts';
import type { RunningGateway } from '../../gateway/src/server.ts';
import {
  authorizeAsOpenShift,
  startOpenShiftOAuth,
  type OpenShiftOAuthServer,
} from '../harness/openshift-oauth.ts';
import { ClusterObjects } from './support/cluster-objects.ts';
import {
  Browser,
  customObjects,
  finishLogin,
  sessionOf,
  startSigninBed,
  type SigninBed,
} from './support/signin-bed.ts';
import { poll, TEST_RUN_LABEL } from './support/user-operator.ts';

describe('sign-in with OpenShift OAuth', () => {
  let bed: SigninBed;
  let openshift: OpenShiftOAuthServer;
  let gateway: RunningGateway;
  let users: ClusterObjects<User>;
  let teams: ClusterObjects<Team>;

  beforeAll(async () => {
    bed = await startSigninBed();
    openshift = await startOpenShiftOAuth();
    const labels = { [TEST_RUN_LABEL]: bed.run };
    users = new ClusterObjects<User>(customObjects(bed.admin), 'User', 'users', labels);
    teams = new ClusterObjects<Team>(customObjects(bed.admin), 'Team', 'teams', labels);
    gateway = await bed.startGateway({
      SIGNIN_PROVIDER: 'openshift',
      OIDC_ISSUER_URL: '',
      OPENSHIFT_API_URL: openshift.url,
      OIDC_CLIENT_ID: openshift.client.clientId,
      OIDC_CLIENT_SECRET_FILE: bed.file('openshift-secret', openshift.client.clientSecret),
      OIDC_REDIRECT_URL: openshift.client.redirectUri,
      ROLE_GROUPS: `manager=leads-${bed.run}`,
    });
  });
  afterAll(async () => {
    await openshift?.stop();
    await bed?.stop();
  });

  async function begin(browser: Browser): Promise<URL> {
    const res = await browser.fetch(`${gateway.url}/auth/login`);
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  }

  it('signs in, identity and groups from users/~, and provisions the User into its teams', async () => {
    const login = `ocp-${bed.run}`;
    const group = `ocp-ml-${bed.run}`;
    const team = `ocp-team-${bed.run}`;
    await teams.create(team, { groups: [group], models: ['granite'] });
    await expect
      .poll(
        async () =>
          (await teams.get(team))?.status?.conditions?.find((c) => c.type === 'Ready')?.status,
        poll,
      )
      .toBe('True');
    openshift.users.set(login, {
      name: login,
      fullName: 'Ocp Person',
      groups: [group, `leads-${bed.run}`],
    });

    const browser = new Browser();
    const authorize = await begin(browser);
    expect(authorize.origin + authorize.pathname).toBe(`${openshift.issuer}/authorize`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('scope')).toBe('user:info');
    const res = await finishLogin(gateway, browser, await authorizeAsOpenShift(authorize, login));
    expect(res.status).toBe(303);
    const user = await users.get(login);
    expect(user?.spec).toMatchObject({
      displayName: 'Ocp Person',
      role: 'manager',
      groups: [`leads-${bed.run}`, group].sort(),
      identity: { issuer: openshift.issuer, subject: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    });
    expect(user?.status?.teams).toEqual([team]);
    expect(bed.litellm.store.users.get(user!.status!.userId!)?.teams).toEqual([team]);
    expect(await sessionOf(gateway, browser)).toMatchObject({
      status: 200,
      body: { user: login, role: 'manager' },
    });
  });

  it('refuses a code from another login (PKCE), a denied authorization and a refused token', async () => {
    const login = `ocp2-${bed.run}`;
    openshift.users.set(login, { name: login });
    // Two logins under way: the second browser's code brought back with the first's state.
    const first = new Browser();
    const firstCallback = await authorizeAsOpenShift(await begin(first), login);
    const second = new Browser();
    const secondCallback = await authorizeAsOpenShift(await begin(second), login);
    const stolen = new URL(firstCallback);
    stolen.searchParams.set('code', secondCallback.searchParams.get('code')!);
    const res = await finishLogin(gateway, first, stolen);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: { message: expect.stringMatching(/refused the authorization code/) },
    });

    const denied = new Browser();
    const deniedRes = await finishLogin(
      gateway,
      denied,
      await authorizeAsOpenShift(await begin(denied), 'nobody'),
    );
    expect(deniedRes.status).toBe(401);
    expect(await deniedRes.json()).toMatchObject({
      error: { message: expect.stringMatching(/OpenShift refused the login: the user denied/) },
    });

    // users/~ refusing the token it was handed: no session.
    const third = new Browser();
    const callback = await authorizeAsOpenShift(await begin(third), login);
    openshift.users.delete(login);
    const refused = await finishLogin(gateway, third, callback);
    expect(refused.status).toBe(401);
    expect(third.cookies.has('llmt_session')).toBe(false);
  });
});
