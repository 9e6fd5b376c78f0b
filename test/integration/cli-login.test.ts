// kubectl llm login / whoami / logout, the real executable against a gateway signing in with
// the in-process OpenID provider, the real API server (the gateway acts as the person by
// impersonation) and Redis. The browser's part is plain HTTP: the URL the CLI prints, the
// provider's login form, the gateway's redirect to the CLI's loopback address. The gateway's
// side of the handshake is also driven directly, as a CLI would, to show each of its checks:
// a code is exchanged once, only with its verifier, only in time, and a login returns only
// to a loopback address.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { challengeOf, CLI_TOKEN_PREFIX } from '../../contracts/cli-login/cli-login.ts';
import { TokenCache } from '../../cli/gateway/token-cache.ts';
import type { Team } from '../../crds/api/index.ts';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { CONTEXT_NAME } from '../harness/kubeconfig.ts';
import { authorizeAs } from '../harness/oidc-login.ts';
import { ClusterObjects } from './support/cluster-objects.ts';
import { kubectlLlm, startKubectlLlm } from './support/kubectl-llm.ts';
import {
  Browser,
  customObjects,
  finishLogin,
  SESSION_COOKIE,
  signIn,
  startSigninBed,
  type SigninBed,
} from './support/signin-bed.ts';
import { TEST_RUN_LABEL } from './support/user-operator.ts';

const CODE_TTL_MS = 1_500;

describe('kubectl llm login, whoami and logout', () => {
  let bed: SigninBed;
  let gateway: RunningGateway;
  let kubeconfig: string;
  let alice: string;
  let group: string;
  let team: string;
  /** A fresh home per CLI "machine", so token caches never mix between tests. */
  const home = () => mkdtempSync(join(tmpdir(), 'cli-login-home-'));
  const cliEnv = (dir: string) => ({ HOME: dir, KUBECTL_LLM_GATEWAY: gateway.url });

  beforeAll(async () => {
    bed = await startSigninBed({ impersonate: true });
    kubeconfig = inject('kubeconfigPath');
    alice = `alice-${bed.run}`;
    group = `cli-devs-${bed.run}`;
    team = `cli-team-${bed.run}`;
    bed.oidc.users.set(alice, { sub: alice, email: `${alice}@example.com`, groups: [group] });
    // The person's group may read Teams and Users, so /api/me shows their team.
    const rbac = bed.admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: {
        metadata: { name: team },
        rules: [
          { apiGroups: ['llmtenancy.dev'], resources: ['teams', 'users'], verbs: ['get', 'list'] },
        ],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: team },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: team },
        subjects: [{ kind: 'Group', name: group }],
      },
    });
    const teams = new ClusterObjects<Team>(customObjects(bed.admin), 'Team', 'teams', {
      [TEST_RUN_LABEL]: bed.run,
    });
    // The first login waits until this Team is Ready with the person in it.
    await teams.create(team, { groups: [group], models: ['granite'] });
    gateway = await bed.startGateway({}, { cliCodeTtlMs: CODE_TTL_MS });
  });
  afterAll(async () => {
    await bed?.stop();
  });

  /** The browser: opens `loginUrl`, signs in at the provider, and is sent on by the gateway. */
  async function browserLogin(loginUrl: string, login = alice): Promise<Response> {
    const browser = new Browser();
    const start = await browser.fetch(loginUrl);
    expect(start.status, await start.clone().text()).toBe(302);
    const callback = await authorizeAs(start.headers.get('location')!, login);
    return finishLogin(gateway, browser, callback);
  }

  /** The gateway's side alone, as a CLI drives it: a login that stops at the loopback redirect. */
  async function codeFor(redirectUri: string) {
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(24).toString('base64url');
    const url = new URL(`${gateway.url}/auth/cli/login`);
    url.search = new URLSearchParams({
      redirect_uri: redirectUri,
      state,
      code_challenge: challengeOf(verifier),
      code_challenge_method: 'S256',
    }).toString();
    const back = await browserLogin(url.href);
    expect(back.status, await back.clone().text()).toBe(303);
    const location = new URL(back.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe(state);
    return { code: location.searchParams.get('code')!, verifier };
  }

  const exchange = (body: Record<string, string>) =>
    fetch(`${gateway.url}/auth/cli/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const message = async (res: Response) =>
    ((await res.json()) as { error: { message: string } }).error.message;

  const me = (token: string) =>
    fetch(`${gateway.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });

  it('logs in through the browser, shows the person with whoami, and logout revokes the token', async () => {
    const dir = home();
    const login = startKubectlLlm(kubeconfig, ['login', '--no-browser'], cliEnv(dir));
    const [url] = await login.stderrMatch(/http:\/\/\S+\/auth\/cli\/login\?\S+/);
    const back = await browserLogin(url);
    expect(back.status).toBe(303);
    const loopback = back.headers.get('location')!;
    expect(new URL(loopback).hostname).toBe('127.0.0.1');
    // Another page cannot hand the CLI a code: a request with any other state is turned away.
    const forged = new URL(loopback);
    forged.searchParams.set('state', randomBytes(24).toString('base64url'));
    expect((await fetch(forged)).status).toBe(400);
    // The browser arrives at the CLI's listener, which exchanges the code and says so.
    const page = await fetch(loopback);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('You are logged in');
    const done = await login.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain(`Logged in to ${gateway.url} as ${alice}`);

    // The token file: one, under ~/.kube/cache/llm-tenancy, readable by its owner only.
    const cacheDir = join(dir, '.kube', 'cache', 'llm-tenancy');
    const [file] = readdirSync(cacheDir);
    expect(statSync(join(cacheDir, file!)).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);

    const whoami = await kubectlLlm(kubeconfig, ['whoami'], cliEnv(dir));
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.stdout).toMatch(new RegExp(`^User: +${alice}`, 'm'));
    expect(whoami.stdout).toMatch(/^Role: +user$/m);
    expect(whoami.stdout).toMatch(new RegExp(`^Teams: +${team} \\(member\\)$`, 'm'));
    const json = await kubectlLlm(kubeconfig, ['whoami', '-o', 'json'], cliEnv(dir));
    const body = JSON.parse(json.stdout) as {
      via: string;
      login: string;
      teams: { name: string }[];
    };
    expect(body).toMatchObject({ via: 'cli', login: alice });
    expect(body.teams.map((t) => t.name)).toEqual([team]);

    const { token } = JSON.parse(readFileSync(join(cacheDir, file!), 'utf8')) as { token: string };
    expect(token.startsWith(CLI_TOKEN_PREFIX)).toBe(true);
    // A bearer token needs no CSRF token on a state-changing call (a cookie does): this POST
    // gets as far as validating its body.
    const post = await fetch(`${gateway.url}/api/me/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ unknown: true }),
    });
    expect(post.status).toBe(400);
    expect(((await post.json()) as { error: { message: string } }).error.message).not.toContain(
      'x-csrf-token',
    );

    const logout = await kubectlLlm(kubeconfig, ['logout'], cliEnv(dir));
    expect(logout.code, logout.stderr).toBe(0);
    expect(readdirSync(cacheDir)).toEqual([]);
    // Revoked at the gateway, not only forgotten here: the same token is refused.
    const after = await me(token);
    expect(after.status).toBe(401);
    expect(await message(after)).toContain('expired or was revoked');
    const again = await kubectlLlm(kubeconfig, ['whoami'], cliEnv(dir));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`not logged in to ${gateway.url}`);
    expect(again.stderr).toContain('run kubectl llm login');
  });

  it('says to log in again when the session behind a cached token has ended', async () => {
    const dir = home();
    const login = startKubectlLlm(kubeconfig, ['login', '--no-browser'], cliEnv(dir));
    const [url] = await login.stderrMatch(/http:\/\/\S+\/auth\/cli\/login\?\S+/);
    await fetch((await browserLogin(url)).headers.get('location')!);
    expect((await login.done).code).toBe(0);
    // The session ends at the gateway (its lifetime over, or another logout): Redis forgets it.
    const cacheDir = join(dir, '.kube', 'cache', 'llm-tenancy');
    const [file] = readdirSync(cacheDir);
    const { token } = JSON.parse(readFileSync(join(cacheDir, file!), 'utf8')) as { token: string };
    await fetch(`${gateway.url}/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    const whoami = await kubectlLlm(kubeconfig, ['whoami'], cliEnv(dir));
    expect(whoami.code).toBe(1);
    expect(whoami.stderr).toContain('the session expired or was ended');
    expect(whoami.stderr).toContain('run kubectl llm login');
  });

  it('exchanges a code once: a replayed code is refused', async () => {
    const redirectUri = 'http://127.0.0.1:49152/callback';
    const { code, verifier } = await codeFor(redirectUri);
    const first = await exchange({ code, codeVerifier: verifier, redirectUri });
    expect(first.status).toBe(200);
    const { token } = (await first.json()) as { token: string };
    expect((await me(token)).status).toBe(200);
    const replay = await exchange({ code, codeVerifier: verifier, redirectUri });
    expect(replay.status).toBe(400);
    expect(await message(replay)).toContain('already used');
  });

  it('refuses a code without its verifier, and the code is spent by the attempt', async () => {
    const redirectUri = 'http://localhost:49153/callback';
    const { code, verifier } = await codeFor(redirectUri);
    const wrong = await exchange({
      code,
      codeVerifier: randomBytes(32).toString('base64url'),
      redirectUri,
    });
    expect(wrong.status).toBe(400);
    expect(await message(wrong)).toContain('code verifier does not match');
    const right = await exchange({ code, codeVerifier: verifier, redirectUri });
    expect(right.status).toBe(400);
  });

  it('refuses a code brought back for another redirect URI than it was issued for', async () => {
    const redirectUri = 'http://127.0.0.1:49155/callback';
    const { code, verifier } = await codeFor(redirectUri);
    const elsewhere = await exchange({
      code,
      codeVerifier: verifier,
      redirectUri: 'http://127.0.0.1:49156/callback',
    });
    expect(elsewhere.status).toBe(400);
    expect(await message(elsewhere)).toContain('not the one this code was issued for');
  });

  it('refuses an expired code', async () => {
    const redirectUri = 'http://127.0.0.1:49154/callback';
    const { code, verifier } = await codeFor(redirectUri);
    await new Promise((resolve) => setTimeout(resolve, CODE_TTL_MS + 500));
    const late = await exchange({ code, codeVerifier: verifier, redirectUri });
    expect(late.status).toBe(400);
    expect(await message(late)).toContain('expired');
  });

  it('refuses a login whose redirect is not a loopback address, before the provider is asked', async () => {
    const verifier = randomBytes(32).toString('base64url');
    for (const redirectUri of [
      'https://attacker.example/callback',
      'http://127.0.0.1.attacker.example/callback',
      'http://localhost@attacker.example/callback',
      'https://127.0.0.1:8443/callback',
      '//attacker.example/callback',
    ]) {
      const url = new URL(`${gateway.url}/auth/cli/login`);
      url.search = new URLSearchParams({
        redirect_uri: redirectUri,
        state: randomBytes(24).toString('base64url'),
        code_challenge: challengeOf(verifier),
        code_challenge_method: 'S256',
      }).toString();
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status, redirectUri).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await message(res)).toContain('redirect_uri must be http://127.0.0.1');
    }
  });

  it('refuses a cookie-less bearer that is not a live CLI token', async () => {
    const res = await me(`${CLI_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`);
    expect(res.status).toBe(401);
    expect(await message(res)).toContain('run kubectl llm login');
  });

  it('takes a browser session only from its cookie: its id is no CLI token (which would skip CSRF)', async () => {
    const browser = await signIn(gateway, alice);
    // The cookie is "<session id>.<signature>", URL-encoded.
    const id = decodeURIComponent(browser.cookies.get(SESSION_COOKIE)!).replace(/\.[^.]*$/, '');
    expect((await browser.fetch(`${gateway.url}/auth/session`)).status).toBe(200);
    const res = await me(`${CLI_TOKEN_PREFIX}${id}`);
    expect(res.status).toBe(401);
    expect(await message(res)).toContain('run kubectl llm login');
  });

  it('says what to do when no gateway is named, when none answers, and when the browser never comes back', async () => {
    const dir = home();
    const none = await kubectlLlm(kubeconfig, ['whoami'], {
      HOME: dir,
      KUBECTL_LLM_GATEWAY: '',
      GATEWAY_URL: '',
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('which gateway? pass --gateway URL');

    const closed = `http://127.0.0.1:${await getPort()}`; // nothing listens there
    new TokenCache({ HOME: dir }).write({
      gateway: closed,
      context: CONTEXT_NAME,
      token: `${CLI_TOKEN_PREFIX}x`,
      expiresAt: new Date().toISOString(),
      user: alice,
      login: alice,
    });
    const unreachable = await kubectlLlm(kubeconfig, ['whoami', '--gateway', closed], {
      HOME: dir,
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`gateway unreachable at ${closed} (ECONNREFUSED)`);

    const late = await kubectlLlm(
      kubeconfig,
      ['login', '--no-browser', '--timeout', '1s'],
      cliEnv(dir),
    );
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('login did not complete: no login came back within 1s');
  });
});
