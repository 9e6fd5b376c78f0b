// The test server's fault injection itself (the client's reaction to faults is tested in
// operator/src/litellm/client.test.ts).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLiteLLMServer, type LiteLLMTestServer } from '../litellm-server/server.ts';

const masterKey = 'sk-master-faults-0000';
let server: LiteLLMTestServer;
const get = (path: string) =>
  fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${masterKey}` } });
const control = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

beforeAll(async () => {
  server = await startLiteLLMServer({ masterKey, models: ['gpt-test'] });
});
afterAll(async () => {
  await server?.stop();
});
afterEach(() => {
  server.reset();
});

describe('fault injection', () => {
  it('applies to N calls, then the route answers normally again', async () => {
    server.faults.add({ route: '/v1/*', status: 503, times: 2 });
    expect((await get('/v1/models')).status).toBe(503);
    expect((await get('/v1/models')).status).toBe(503);
    expect((await get('/v1/models')).status).toBe(200);
  });

  it('answers a LiteLLM-shaped error with Retry-After, or the given body', async () => {
    server.faults.add({ route: '/v1/models', status: 429, retryAfter: 7 });
    const res = await get('/v1/models');
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toEqual({
      error: {
        message: 'injected fault: HTTP 429 for GET /v1/models',
        type: 'throttling_error',
        param: null,
        code: '429',
      },
    });
    server.faults.add({ route: '/v1/models', status: 500, body: { detail: 'custom' } });
    expect(await (await get('/v1/models')).json()).toEqual({ detail: 'custom' });
  });

  it('matches method and pattern; the newest matching fault wins', async () => {
    server.faults.add({ route: '*', status: 500 });
    server.faults.add({ route: '/v1/models', method: 'GET', status: 502 });
    server.faults.add({ route: '/v1/models', method: 'POST', status: 504 });
    expect((await get('/v1/models')).status).toBe(502);
    expect((await get('/model/info')).status).toBe(500);
  });

  it('latency delays the call and then lets it through', async () => {
    server.faults.add({ route: '/v1/models', latencyMs: 20 });
    expect((await get('/v1/models')).status).toBe(200);
  });

  it('a slow call is still carried out when the client gives up (as LiteLLM would)', async () => {
    server.faults.add({ route: '/team/new', latencyMs: 200 });
    const res = fetch(`${server.url}/team/new`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ team_id: 'late' }),
      signal: AbortSignal.timeout(20),
    });
    await expect(res).rejects.toThrow();
    await vi.waitUntil(() => server.store.teams.has('late'), { timeout: 5_000 });
  });

  it('drop destroys the connection without an answer', async () => {
    server.faults.add({ route: '/v1/models', drop: true });
    await expect(get('/v1/models')).rejects.toThrow('fetch failed');
  });

  it('hang holds the call until the fault is cleared over HTTP', async () => {
    const set = await control('POST', '/__test/faults', { route: '/v1/models', hang: true });
    const id = ((await set.json()) as { faults: { id: number }[] }).faults[0]?.id;
    expect(
      ((await (await control('GET', '/__test/faults')).json()) as { faults: unknown[] }).faults,
    ).toHaveLength(1);
    const pending = get('/v1/models').then(
      (r) => r.status,
      () => 'closed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await control('DELETE', `/__test/faults/${id}`);
    expect(await pending).toBe('closed');
    expect((await get('/v1/models')).status).toBe(200);
  });

  it('refuses a nonsensical fault', async () => {
    expect(
      (await control('POST', '/__test/faults', { route: '*', status: 500, times: 0 })).status,
    ).toBe(400);
  });

  it('counts calls that a fault answered; /__test/* is not counted', async () => {
    server.faults.add({ route: '/v1/models', status: 503, times: 1 });
    await get('/v1/models');
    await get('/v1/models');
    await control('GET', '/__test/faults');
    expect(await (await control('GET', '/__test/calls')).json()).toEqual({
      calls: { 'GET /v1/models': 2 },
      total: 2,
      writes: 0,
    });
  });

  it('POST /__test/reset empties the store, faults and counts', async () => {
    server.store.newTeam({ team_id: 't' });
    server.faults.add({ route: '*', status: 500 });
    expect((await control('POST', '/__test/reset')).status).toBe(200);
    expect(server.store.teams.size).toBe(0);
    expect(server.faults.list()).toEqual([]);
    expect(server.calls.snapshot().total).toBe(0);
  });
});
