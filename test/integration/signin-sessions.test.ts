// Sessions and the master key on the people side, with real Redis and real logins: two
// gateway instances share sessions (a login on one is signed in on the other, a logout on
// one ends it on both), a state-changing call without the session's CSRF token is refused,
// idle and absolute lifetimes end a session, a login rotates the session id, Redis down is a
// 503 on the people side only, and the master key is refused when wrong, accepted when right,
// and rotated with its file without a restart.
import { createHash } from 'node:crypto';
import { writeFileSync, renameSync } from 'node:fs';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/src/server.ts';
import {
  Browser,
  sessionOf,
  SESSION_COOKIE,
  signIn,
  startSigninBed,
  type SigninBed,
} from './support/signin-bed.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('people-side sessions and the master key', () => {
  let bed: SigninBed;
  let a: RunningGateway;
  let b: RunningGateway;
  const login = () => `person-${bed.run}-${Math.random().toString(36).slice(2, 7)}`;
  const person = (sub: string) => {
    bed.oidc.users.set(sub, { sub, email: `${sub}@example.com` });
    return sub;
  };

  beforeAll(async () => {
    bed = await startSigninBed();
    a = await bed.startGateway();
    b = await bed.startGateway();
  });
  afterAll(async () => {
    await bed?.stop();
  });

  it('shares sessions between gateway instances, logout included', async () => {
    const browser = await signIn(a, person(login()));
    const sessionCookie = browser.cookies.get(SESSION_COOKIE)!;
    const { status, body } = await sessionOf(b, browser);
    expect(status).toBe(200);
    const out = await browser.fetch(`${b.url}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf-token': String(body.csrfToken) },
    });
    expect(out.status).toBe(200);
    // RP-initiated logout: where to send the browser to end the provider's session too.
    expect(await out.json()).toMatchObject({
      signedOut: true,
      endSessionUrl: expect.stringMatching(new RegExp(`^${bed.oidc.issuer}/session/end\\?`)),
    });
    // The logout cleared the cookie; the same cookie kept by another tab is over too.
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    const otherTab = new Browser();
    otherTab.cookies.set(SESSION_COOKIE, sessionCookie);
    expect((await sessionOf(a, otherTab)).status).toBe(401);
  });

  it('refuses a state-changing call of a session without its CSRF token', async () => {
    const browser = await signIn(a, person(login()));
    const { body } = await sessionOf(a, browser);
    for (const headers of [{}, { 'x-csrf-token': 'guess' }]) {
      const res = await browser.fetch(`${a.url}/auth/logout`, { method: 'POST', headers });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({
        error: { type: 'permission_error', message: expect.stringMatching(/x-csrf-token/) },
      });
    }
    expect((await sessionOf(a, browser)).status).toBe(200);
    const res = await browser.fetch(`${a.url}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf-token': String(body.csrfToken) },
    });
    expect(res.status).toBe(200);
  });

  it('rotates the session id at login and ends the one before', async () => {
    const sub = person(login());
    const browser = await signIn(a, sub);
    const first = browser.cookies.get(SESSION_COOKIE)!;
    const before = new Browser();
    before.cookies.set(SESSION_COOKIE, first);
    await signIn(a, sub, browser);
    expect(browser.cookies.get(SESSION_COOKIE)).not.toBe(first);
    expect((await sessionOf(a, browser)).status).toBe(200);
    expect((await sessionOf(a, before)).status).toBe(401);
  });

  it('ends a session unused for the idle lifetime, and any session at the absolute one', async () => {
    const short = await bed.startGateway({
      SESSION_IDLE_LIFETIME: '1s',
      SESSION_ABSOLUTE_LIFETIME: '3s',
    });
    const idle = await signIn(short, person(login()));
    const busy = await signIn(short, person(login()));
    for (let i = 0; i < 4; i++) {
      await sleep(500);
      expect((await sessionOf(short, busy)).status).toBe(200);
    }
    // idle went unused for 2 s: over; busy was used every 0.5 s and lives on.
    expect((await sessionOf(short, idle)).status).toBe(401);
    const started = Date.now();
    while ((await sessionOf(short, busy)).status === 200) {
      await sleep(300);
      expect(Date.now() - started).toBeLessThan(3_000);
    }
    expect((await sessionOf(short, busy)).body).toMatchObject({
      error: { type: 'auth_error', message: expect.stringMatching(/Not signed in/) },
    });
  });

  it('refreshes expired provider tokens, and ends the session when the provider refuses', async () => {
    const refreshing = await bed.startGateway({
      OIDC_SCOPES: 'openid email profile groups offline_access',
    });
    const sub = person(login());
    const browser = await signIn(refreshing, sub);
    const id = decodeURIComponent(browser.cookies.get(SESSION_COOKIE)!).replace(/\.[^.]+$/, '');
    const key = `${bed.prefix}session:${createHash('sha256').update(id).digest('base64url')}`;
    const redis = new Redis(bed.redisUrl);
    try {
      const expire = async () => {
        const session = JSON.parse((await redis.get(key))!) as {
          refreshToken?: string;
          tokensExpireAt: number;
        };
        await redis.set(
          key,
          JSON.stringify({ ...session, tokensExpireAt: Date.now() - 1000 }),
          'KEEPTTL',
        );
        return session;
      };
      const before = await expire();
      expect(before.refreshToken).toEqual(expect.any(String));
      expect((await sessionOf(refreshing, browser)).status).toBe(200);
      const after = JSON.parse((await redis.get(key))!) as { tokensExpireAt: number };
      expect(after.tokensExpireAt).toBeGreaterThan(Date.now());

      // The person is gone at the provider: the next refresh is refused, the session ends.
      bed.oidc.users.delete(sub);
      await expire();
      expect((await sessionOf(refreshing, browser)).status).toBe(401);
      expect(await redis.exists(key)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('answers 503 on the people side when Redis is down, and leaves /v1 alone', async () => {
    const down = await bed.startGateway({ REDIS_URL: 'redis://127.0.0.1:1' });
    const browser = new Browser();
    browser.cookies.set(SESSION_COOKIE, a.url /* any value */);
    const login = await browser.fetch(`${down.url}/auth/login`);
    expect(login.status).toBe(503);
    expect(await login.json()).toMatchObject({
      error: { type: 'service_unavailable_error', message: expect.stringMatching(/session store/) },
    });
    // The key path answers as it does without sign-in (here: no key).
    const v1 = await fetch(`${down.url}/v1/models`);
    expect(v1.status).toBe(401);
  });

  it('takes the master key when right, refuses it when wrong, and follows its rotation', async () => {
    const keyFile = bed.file('master-key', 'sk-master-one\n');
    const auditMark = bed.audit.length;
    const gateway = await bed.startGateway(
      { LITELLM_MASTER_KEY_FILE: keyFile },
      { masterKeyCheckIntervalMs: 100 },
    );
    const as = (key: string) =>
      fetch(`${gateway.url}/auth/session`, { headers: { authorization: `Bearer ${key}` } });
    const right = await as('sk-master-one');
    expect(right.status).toBe(200);
    expect(await right.json()).toMatchObject({
      via: 'master-key',
      role: 'admin',
      groups: ['llm-tenancy-admins'],
    });
    for (const wrong of ['sk-master-on', 'sk-master-one2', '']) {
      const res = await as(wrong);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({
        error: { type: 'auth_error', message: expect.stringMatching(/not the LiteLLM master key/) },
      });
    }
    // Each use is an audit record of the bootstrap admin: the right key, then the wrong ones.
    expect(bed.audit.slice(auditMark)).toEqual(
      ['ok', 'error', 'error', 'error'].map((outcome) => ({
        time: expect.any(String),
        actor: {
          type: 'person',
          name: expect.any(String),
          groups: ['llm-tenancy-admins'],
          via: 'master-key',
        },
        action: 'signin.master-key',
        changes: { method: 'GET', path: '/auth/session' },
        result: outcome === 'ok' ? { outcome } : expect.objectContaining({ outcome, status: 401 }),
      })),
    );
    // A Secret update: the kubelet swaps the file for a new one.
    const next = join(bed.dir, 'master-key.next');
    writeFileSync(next, 'sk-master-two');
    renameSync(next, keyFile);
    await expect
      .poll(async () => (await as('sk-master-two')).status, { timeout: 3_000, interval: 100 })
      .toBe(200);
    expect((await as('sk-master-one')).status).toBe(401);
    // With the master key the gateway also serves usage (read from LiteLLM with that key).
    const usage = await fetch(`${gateway.url}/api/usage?scope=team`, {
      headers: { authorization: 'Bearer sk-master-two' },
    });
    expect(usage.status).toBe(400);
    expect(await usage.json()).toMatchObject({
      error: { param: 'name', message: expect.stringContaining('scope=team needs') },
    });
    // The key never reaches the logs.
    expect(bed.logs.join('')).not.toMatch(/sk-master-(one|two)/);
    expect(JSON.stringify(bed.audit)).not.toMatch(/sk-master-(one|two)/);
  });

  it('routes the people side to its own router: unknown paths 404 in OpenAI shape, /v1 keeps its key', async () => {
    const browser = await signIn(a, person(login()));
    for (const path of ['/auth/nope', '/api/nothing-here', '/ui/x', '/authx', '/']) {
      const res = await browser.fetch(`${a.url}${path}`);
      expect(res.status, `${path} ${await res.clone().text()}`).toBe(404);
      expect(await res.json()).toMatchObject({
        error: { type: 'invalid_request_error', code: '404' },
      });
    }
    // Normalised like every path, then routed: /auth/./session is /auth/session.
    expect((await browser.fetch(`${a.url}/auth/./session`)).status).toBe(200);
    // A session is no API key.
    const v1 = await browser.fetch(`${a.url}/v1/models`);
    expect(v1.status).toBe(401);
  });

  it('has no master-key access without a master key file', async () => {
    const res = await fetch(`${a.url}/auth/session`, {
      headers: { authorization: 'Bearer anything' },
    });
    expect(res.status).toBe(401);
  });
});
