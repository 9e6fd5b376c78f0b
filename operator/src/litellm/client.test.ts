// The client's behaviour under faults, against the LiteLLM-compatible test server over real
// sockets: what each failure becomes, which calls are retried, the circuit breaker, metrics.
// No timing is asserted: waits are injected (no real backoff sleeps) and counted instead.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLiteLLMServer, type LiteLLMTestServer } from '../../../test/litellm-server/server.ts';
import { LiteLLMClient, type LiteLLMClientOptions } from './client.ts';
import { litellmConfigFromEnv, masterKeyFromFile } from './config.ts';
import { endpoints, type EndpointName } from './endpoints.ts';
import { LiteLLMError } from './errors.ts';
import { hashKey } from './hash.ts';

const masterKey = 'sk-master-unit-0000';
let server: LiteLLMTestServer;

beforeAll(async () => {
  server = await startLiteLLMServer({ masterKey, models: ['gpt-test', 'emb-test'] });
});
afterAll(async () => {
  await server?.stop();
});
afterEach(() => {
  server.reset();
});

/** A client whose waits are recorded instead of slept. */
function client(options: Partial<LiteLLMClientOptions> = {}) {
  const sleeps: number[] = [];
  const c = new LiteLLMClient({
    baseUrl: server.url,
    masterKey,
    timeoutMs: 2_000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...options,
  });
  return { client: c, sleeps };
}

async function failure(promise: Promise<unknown>): Promise<LiteLLMError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LiteLLMError);
  return err as LiteLLMError;
}

describe('failures become classified LiteLLMErrors', () => {
  it('no answer within the timeout → unavailable (hang)', async () => {
    server.faults.add({ route: '/team/info', hang: true });
    const { client: c } = client({ timeoutMs: 200, retry: { maxAttempts: 1 } });
    const err = await failure(c.teamInfo('t', { object: 'Team t' }));
    expect(err.kind).toBe('unavailable');
    expect(err.status).toBeUndefined();
    expect(err.message).toBe('Team t: GET /team/info: no response within 200 ms');
  });

  it('a dropped connection → unavailable', async () => {
    server.faults.add({ route: '/team/info', drop: true });
    const { client: c } = client({ retry: { maxAttempts: 1 } });
    const err = await failure(c.teamInfo('t'));
    expect(err.kind).toBe('unavailable');
    expect(err.message).toMatch(
      /^GET \/team\/info: could not reach LiteLLM at http:\/\/127\.0\.0\.1:\d+: /,
    );
  });

  it('nothing listening → unavailable', async () => {
    const port = await getPort({ host: '127.0.0.1' }); // free: nothing listens there
    const c = new LiteLLMClient({
      baseUrl: `http://127.0.0.1:${port}`,
      masterKey,
      retry: { maxAttempts: 1 },
    });
    const err = await failure(c.listModels());
    expect(err.kind).toBe('unavailable');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('429 with Retry-After → rateLimited with retryAfterMs, not waited for when long', async () => {
    server.faults.add({ route: '/team/info', status: 429, retryAfter: 30 });
    const { client: c, sleeps } = client();
    const err = await failure(c.teamInfo('t'));
    expect(err.kind).toBe('rateLimited');
    expect(err.retryAfterMs).toBe(30_000);
    expect(sleeps).toEqual([]);
    expect(server.calls.count('GET', '/team/info')).toBe(1);
  });

  it('503 with an HTTP-date Retry-After → unavailable with retryAfterMs', async () => {
    server.faults.add({
      route: '/team/new',
      status: 503,
      retryAfter: new Date(Date.now() + 60_000).toUTCString(),
    });
    const { client: c } = client();
    const err = await failure(c.newTeam({ team_id: 't' }));
    expect(err.kind).toBe('unavailable');
    expect(err.retryAfterMs).toBeGreaterThan(50_000);
  });

  it('the master key and plaintext keys never appear in messages', async () => {
    const key = 'sk-secret-value-0123456789';
    server.faults.add({
      route: '/key/generate',
      status: 400,
      body: { detail: `bad key ${key} with master ${masterKey}` },
    });
    const { client: c } = client();
    const err = await failure(c.generateKey({ key }));
    expect(err.message).not.toContain(key);
    expect(err.message).not.toContain(masterKey);
    expect(err.message).toBe('POST /key/generate: 400 bad key [redacted] with master [redacted]');
  });

  it('a request that breaks the contract is refused before sending (invalid)', async () => {
    const { client: c } = client();
    const err = await failure(c.generateKey({ key: 'not-a-key' }, { object: 'VirtualKey ns/k' }));
    expect(err.kind).toBe('invalid');
    expect(err.terminal).toBe(true);
    expect(err.message).toMatch(/^VirtualKey ns\/k: POST \/key\/generate: request not sent/);
    expect(server.calls.snapshot().total).toBe(0);
  });

  it('a response that breaks the contract → server', async () => {
    server.faults.add({ route: '/team/info', status: 200, body: { team_id: 't' } });
    const { client: c } = client();
    const err = await failure(c.teamInfo('t'));
    expect(err.kind).toBe('server');
    expect(err.message).toContain('response does not match the LiteLLM contract: team_info');
  });
});

describe('retries: only idempotent calls, only for unavailability', () => {
  it('a GET is retried after 503 and succeeds', async () => {
    server.faults.add({ route: '/v1/models', status: 503, times: 2 });
    const { client: c, sleeps } = client();
    const models = await c.listModels();
    expect(models.data.map((m) => m.id)).toEqual(['gpt-test', 'emb-test']);
    expect(server.calls.count('GET', '/v1/models')).toBe(3);
    expect(sleeps).toEqual([150, 300]); // equal jitter at random 0.5: 200·¾, 400·¾
  });

  it('a GET is retried after a dropped connection, with a short Retry-After honoured exactly', async () => {
    server.faults.add({ route: '/v1/models', drop: true, times: 1 });
    server.faults.add({ route: '/v1/models', status: 503, retryAfter: 1, times: 1 });
    const { client: c, sleeps } = client();
    await c.listModels();
    expect(server.calls.count('GET', '/v1/models')).toBe(3);
    expect(sleeps).toEqual([1_000, 300]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    server.faults.add({ route: '/v1/models', status: 502 });
    const { client: c } = client({ retry: { maxAttempts: 3 } });
    const err = await failure(c.listModels());
    expect(err.status).toBe(502);
    expect(server.calls.count('GET', '/v1/models')).toBe(3);
  });

  it.each([
    ['newTeam', (c: LiteLLMClient) => c.newTeam({ team_id: 't' }), '/team/new'],
    ['newUser', (c: LiteLLMClient) => c.newUser({ user_id: 'u' }), '/user/new'],
    [
      'generateKey',
      (c: LiteLLMClient) => c.generateKey({ key: 'sk-0123456789abcdef' }),
      '/key/generate',
    ],
    [
      'addTeamMembers',
      (c: LiteLLMClient) =>
        c.addTeamMembers({ team_id: 't', member: { role: 'user', user_id: 'u' } }),
      '/team/member_add',
    ],
    [
      'deleteTeamMember',
      (c: LiteLLMClient) => c.deleteTeamMember({ team_id: 't', user_id: 'u' }),
      '/team/member_delete',
    ],
    [
      'deleteKeys',
      (c: LiteLLMClient) => c.deleteKeys({ keys: ['sk-0123456789abcdef'] }),
      '/key/delete',
    ],
    ['deleteTeams', (c: LiteLLMClient) => c.deleteTeams(['t']), '/team/delete'],
    ['deleteUsers', (c: LiteLLMClient) => c.deleteUsers(['u']), '/user/delete'],
    [
      'updateKey with duration',
      (c: LiteLLMClient) => c.updateKey({ key: 'sk-0123456789abcdef', duration: '30d' }),
      '/key/update',
    ],
  ] as const)('%s is never retried', async (_name, call, path) => {
    server.faults.add({ route: path, status: 503 });
    const { client: c, sleeps } = client();
    const err = await failure(call(c));
    expect(err.kind).toBe('unavailable');
    expect(server.calls.count('POST', path)).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it.each([
    [
      'updateTeam',
      (c: LiteLLMClient) => c.updateTeam({ team_id: 't', max_budget: null }),
      '/team/update',
    ],
    [
      'updateUser',
      (c: LiteLLMClient) => c.updateUser({ user_id: 'u', tpm_limit: 10 }),
      '/user/update',
    ],
    [
      'updateKey',
      (c: LiteLLMClient) => c.updateKey({ key: hashKey('sk-0123456789abcdef'), max_budget: 5 }),
      '/key/update',
    ],
    ['blockKey', (c: LiteLLMClient) => c.blockKey('sk-0123456789abcdef'), '/key/block'],
    ['blockTeam', (c: LiteLLMClient) => c.blockTeam('t'), '/team/block'],
  ] as const)('%s (marked idempotent) is retried', async (_name, call, path) => {
    server.faults.add({ route: path, status: 503 });
    const { client: c } = client({ retry: { maxAttempts: 2 } });
    await failure(call(c));
    expect(server.calls.count('POST', path)).toBe(2);
  });

  it('4xx answers are not retried, even on GETs', async () => {
    const { client: c } = client();
    const err = await failure(c.teamInfo('missing'));
    expect(err.kind).toBe('notFound');
    expect(server.calls.count('GET', '/team/info')).toBe(1);
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive unavailable calls, fails fast without calling, and recovers', async () => {
    let now = 0;
    const registry = new Registry();
    const { client: c } = client({
      retry: { maxAttempts: 1 },
      circuitBreaker: { failureThreshold: 3, coolDownMs: 5_000, now: () => now },
      registry,
    });
    server.faults.add({ route: '/v1/models', status: 503 });
    for (let i = 0; i < 3; i++) expect((await failure(c.listModels())).status).toBe(503);
    expect(c.breaker.state).toBe('open');

    const fast = await failure(c.listModels({ object: 'Team t' }));
    expect(fast.kind).toBe('unavailable');
    expect(fast.circuitOpen).toBe(true);
    expect(fast.retryAfterMs).toBe(5_000);
    expect(fast.message).toMatch(
      /^Team t: GET \/v1\/models: not sent: circuit breaker open after 3 consecutive failures/,
    );
    expect(fast.message).toContain(
      '(last: GET /v1/models: 503 injected fault: HTTP 503 for GET /v1/models)',
    );
    expect(server.calls.count('GET', '/v1/models')).toBe(3);

    // After the cool-down one probe goes through; LiteLLM is back, so the circuit closes.
    server.faults.clear();
    now += 5_000;
    await c.listModels();
    expect(c.breaker.state).toBe('closed');
    expect(server.calls.count('GET', '/v1/models')).toBe(4);

    const metrics = await registry.getSingleMetric('litellm_client_requests_total')!.get();
    const byCode = Object.fromEntries(metrics.values.map((v) => [v.labels.code, v.value]));
    expect(byCode).toEqual({ '503': 3, circuit_open: 1, '200': 1 });
    expect(
      (await registry.getSingleMetric('litellm_client_circuit_state')!.get()).values[0]?.value,
    ).toBe(0);
  });

  it('a failed probe keeps it open; 4xx answers count as LiteLLM being up', async () => {
    let now = 0;
    const { client: c } = client({
      retry: { maxAttempts: 1 },
      circuitBreaker: { failureThreshold: 2, coolDownMs: 1_000, now: () => now },
    });
    server.faults.add({ route: '/team/info', drop: true });
    await failure(c.teamInfo('t'));
    await failure(c.teamInfo('t'));
    expect(c.breaker.state).toBe('open');
    now += 1_000;
    await failure(c.teamInfo('t')); // the probe is dropped too
    expect(c.breaker.state).toBe('open');
    server.faults.clear();
    now += 1_000;
    expect((await failure(c.teamInfo('t'))).kind).toBe('notFound'); // an answer: closed
    expect(c.breaker.state).toBe('closed');
  });

  it('a caller abort is not a LiteLLM failure', async () => {
    server.faults.add({ route: '/team/info', hang: true });
    const { client: c } = client({ circuitBreaker: { failureThreshold: 1 } });
    const controller = new AbortController();
    const pending = c.teamInfo('t', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    await expect(pending).rejects.toThrow('shutting down');
    expect(c.breaker.state).toBe('closed');
  });
});

describe('metrics', () => {
  it('label requests by route template, method and status; never by key', async () => {
    const registry = new Registry();
    const { client: c } = client({ registry });
    await failure(c.keyInfo('sk-not-there-0123456789'));
    await c.listModels();
    const text = await registry.metrics();
    expect(text).toContain(
      'litellm_client_requests_total{endpoint="/key/info",method="GET",code="404"} 1',
    );
    expect(text).toContain(
      'litellm_client_requests_total{endpoint="/v1/models",method="GET",code="200"} 1',
    );
    expect(text).toContain(
      'litellm_client_request_duration_seconds_count{endpoint="/v1/models",method="GET"} 1',
    );
    expect(text).not.toContain('sk-not-there');
  });

  it('two clients share one set of metrics on a registry', () => {
    const registry = new Registry();
    client({ registry });
    expect(() => client({ registry })).not.toThrow();
  });
});

describe('configuration', () => {
  it('reads LITELLM_URL and LITELLM_MASTER_KEY', () => {
    expect(
      litellmConfigFromEnv({ LITELLM_URL: 'http://litellm:4000', LITELLM_MASTER_KEY: 'sk-m' }),
    ).toEqual({
      baseUrl: 'http://litellm:4000',
      masterKey: 'sk-m',
    });
  });

  it('says what is missing', () => {
    expect(() => litellmConfigFromEnv({})).toThrow('LITELLM_URL is not set');
    expect(() => litellmConfigFromEnv({ LITELLM_URL: 'nope' })).toThrow('LITELLM_URL is not a URL');
    expect(() => litellmConfigFromEnv({ LITELLM_URL: 'http://x' })).toThrow(
      'LITELLM_MASTER_KEY_FILE',
    );
    expect(() =>
      litellmConfigFromEnv({
        LITELLM_URL: 'http://x',
        LITELLM_MASTER_KEY_FILE: '/nonexistent/key',
      }),
    ).toThrow('/nonexistent/key');
  });

  it('re-reads a mounted key file, so a rotated Secret is used without a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-key-'));
    try {
      const file = join(dir, 'masterKey');
      await writeFile(file, `${masterKey}\n`);
      const source = masterKeyFromFile(file, 0);
      const c = new LiteLLMClient({
        baseUrl: server.url,
        masterKey: source,
        retry: { maxAttempts: 1 },
      });
      expect((await c.listModels()).data).toHaveLength(2);
      await writeFile(file, 'sk-rotated-elsewhere');
      expect((await failure(c.listModels())).kind).toBe('unauthorized');
      await writeFile(file, masterKey);
      expect((await c.listModels()).data).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the table of endpoints behind one call path', () => {
  it('refuses a body that breaks its schema before sending anything, naming the endpoint and the field', async () => {
    const { client: c } = client();
    const key = 'sk-0123456789abcdef';
    const cases: [Promise<unknown>, string][] = [
      [c.blockTeam('', { object: 'Team t' }), 'Team t: POST /team/block: request not sent'],
      [c.unblockKey(''), 'POST /key/unblock: request not sent'],
      [c.keyInfo(''), 'GET /key/info: request not sent'],
      [c.generateKey({ key, tpm_limit: 1.5 }), 'POST /key/generate: request not sent'],
      [c.listKeys({ size: 101 }), 'GET /key/list: request not sent'],
    ];
    const fields = ['team_id', 'key', 'key', 'tpm_limit', 'size'];
    for (const [i, [call, prefix]] of cases.entries()) {
      const err = await failure(call);
      expect(err.kind).toBe('invalid');
      expect(err.message.startsWith(prefix), err.message).toBe(true);
      expect(err.message).toContain(`it does not match the LiteLLM contract: ${fields[i]}: `);
      expect(err.message).not.toContain(key);
    }
    expect(server.calls.snapshot().total).toBe(0);
  });

  it('refuses a response that breaks its schema (server), naming the field', async () => {
    server.faults.add({ route: '/key/list', status: 200, body: { keys: [42] } });
    server.faults.add({ route: '/team/block', status: 200, body: { blocked: true } });
    const { client: c } = client();
    const list = await failure(c.listKeys());
    expect(list.kind).toBe('server');
    expect(list.message).toContain(
      'GET /key/list: 200 response does not match the LiteLLM contract: keys.0',
    );
    const block = await failure(c.blockTeam('t'));
    expect(block.kind).toBe('server');
    expect(block.message).toContain('response does not match the LiteLLM contract: team_id');
  });

  // One valid call per entry of the table; a new entry without one fails to compile.
  const key = 'sk-0123456789abcdef';
  const samples: Record<EndpointName, (c: LiteLLMClient) => Promise<unknown>> = {
    newUser: (c) => c.newUser({ user_id: 'u' }),
    userInfo: (c) => c.userInfo('u'),
    updateUser: (c) => c.updateUser({ user_id: 'u', max_budget: 1 }),
    deleteUsers: (c) => c.deleteUsers(['u']),
    listUsers: (c) => c.listUsers(),
    newTeam: (c) => c.newTeam({ team_id: 't' }),
    teamInfo: (c) => c.teamInfo('t'),
    updateTeam: (c) => c.updateTeam({ team_id: 't', max_budget: 1 }),
    deleteTeams: (c) => c.deleteTeams(['t']),
    listTeams: (c) => c.listTeams(),
    addTeamMembers: (c) =>
      c.addTeamMembers({ team_id: 't', member: { role: 'user', user_id: 'u' } }),
    deleteTeamMember: (c) => c.deleteTeamMember({ team_id: 't', user_id: 'u' }),
    updateTeamMember: (c) => c.updateTeamMember({ team_id: 't', user_id: 'u', role: 'user' }),
    blockTeam: (c) => c.blockTeam('t'),
    unblockTeam: (c) => c.unblockTeam('t'),
    generateKey: (c) => c.generateKey({ key }),
    keyInfo: (c) => c.keyInfo(key),
    updateKey: (c) => c.updateKey({ key, max_budget: 1 }), // without duration: idempotent
    deleteKeys: (c) => c.deleteKeys({ keys: [key] }),
    listKeys: (c) => c.listKeys(),
    blockKey: (c) => c.blockKey(key),
    unblockKey: (c) => c.unblockKey(key),
    listModels: (c) => c.listModels(),
    modelInfo: (c) => c.modelInfo(),
    readiness: (c) => c.readiness(),
  };

  it.each(Object.keys(samples) as EndpointName[])(
    '%s is retried after 503 exactly when the table marks it idempotent',
    async (name) => {
      const entry = endpoints[name];
      server.faults.add({ route: entry.path, method: entry.method, status: 503 });
      const { client: c, sleeps } = client({ retry: { maxAttempts: 3 } });
      const err = await failure(samples[name](c));
      expect(err.kind).toBe('unavailable');
      const retried = entry.idempotent !== false;
      expect(server.calls.count(entry.method, entry.path)).toBe(retried ? 3 : 1);
      expect(sleeps).toHaveLength(retried ? 2 : 0);
    },
  );
});

describe('listAllKeys and listAllUsers: every row, page by page', () => {
  /** Keys straight into the test server's store, as if made long ago. */
  function seedKeys(count: number, fields: { team_id?: string } = {}): string[] {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const token = hashKey(`sk-seeded-${fields.team_id ?? ''}-${i}-0123456789`);
      server.store.newKey({ token, key_name: 'sk-...seed', ...fields });
      tokens.push(token);
    }
    return tokens;
  }

  it('reads 10,000 keys in 100 requests, full rows', async () => {
    const tokens = seedKeys(10_000);
    const { client: c } = client({ timeoutMs: 10_000 });
    const rows = await c.listAllKeys();
    expect(server.calls.count('GET', '/key/list')).toBe(100);
    expect(rows).toHaveLength(10_000);
    expect(new Set(rows.map((r) => r.token))).toEqual(new Set(tokens));
    expect(rows[0]).toMatchObject({ key_name: 'sk-...seed', metadata: {} });
  }, 30_000);

  it('lists once a key that a creation shifted onto the next page (newest first)', async () => {
    const tokens = seedKeys(5);
    const late = hashKey('sk-created-while-listing-0123');
    let attempts = 0;
    const { client: c } = client({
      // Called before each request is sent: a key appears between page 1 and page 2.
      masterKey: () => {
        if (++attempts === 2) {
          server.store.newKey({
            token: late,
            key_name: 'sk-...late',
            created_at: '2999-01-01T00:00:00.000Z',
          });
        }
        return masterKey;
      },
    });
    const rows = await c.listAllKeys({ pageSize: 2 });
    expect(server.calls.count('GET', '/key/list')).toBe(3);
    // Page 2 starts with the last row of page 1 again; the new key went to page 1, read before.
    expect(rows).toHaveLength(5);
    expect(rows.map((r) => r.token).sort()).toEqual([...tokens].sort());
  });

  it('passes the filter through and keeps the page size', async () => {
    const mine = seedKeys(3, { team_id: 'mine' });
    seedKeys(4, { team_id: 'theirs' });
    const { client: c } = client();
    const rows = await c.listAllKeys({ filter: { team_id: 'mine' }, pageSize: 2 });
    expect(rows.map((r) => r.token).sort()).toEqual([...mine].sort());
    expect(server.calls.count('GET', '/key/list')).toBe(2);
  });

  it('an empty LiteLLM is one request', async () => {
    const { client: c } = client();
    expect(await c.listAllKeys()).toEqual([]);
    expect(server.calls.count('GET', '/key/list')).toBe(1);
  });

  it('hashes where full rows were asked for → server, never "no keys"', async () => {
    server.faults.add({
      route: '/key/list',
      status: 200,
      body: {
        keys: [hashKey('sk-0123456789abcdef')],
        total_count: 1,
        current_page: 1,
        total_pages: 1,
      },
    });
    const { client: c } = client();
    const err = await failure(c.listAllKeys({ object: 'resync' }));
    expect(err.kind).toBe('server');
    expect(err.message).toBe(
      'resync: GET /key/list: response holds key hashes, not the full rows asked for (return_full_object)',
    );
  });

  it('a page size LiteLLM refuses is refused before sending', async () => {
    const { client: c } = client();
    expect((await failure(c.listAllKeys({ pageSize: 101 }))).kind).toBe('invalid');
    expect(server.calls.snapshot().total).toBe(0);
  });

  it('reads every user in pages of 100', async () => {
    for (let i = 0; i < 150; i++) server.store.newUser({ user_id: `user-${i}` });
    const { client: c } = client();
    const users = await c.listAllUsers();
    expect(users.map((u) => u.user_id).sort()).toEqual(
      Array.from({ length: 150 }, (_, i) => `user-${i}`).sort(),
    );
    expect(server.calls.count('GET', '/user/list')).toBe(2);
  });
});
