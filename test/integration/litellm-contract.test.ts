// The LiteLLM contract (operator/src/litellm/CONTRACT-VERIFIED.md), exercised through the
// operator's LiteLLM client against two targets:
//
//   1. the LiteLLM-compatible test server (test/litellm-server): everything, management included
//   2. the real LiteLLM proxy from PyPI (test/harness/litellm-proxy.ts), without a database:
//      models, health, inference with the master key, error envelopes — and management calls
//      answering "No db connected", which the client must report as `unavailable`.
//
// One suite runs against both, so the test server cannot drift from the real thing where the
// real thing can run. The real proxy must be installed (test/harness/bin/install-litellm.sh);
// when it is not, its part FAILS saying so, unless LLM_TENANCY_SKIP_REAL_LITELLM=1.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LiteLLMClient } from '../../operator/src/litellm/client.ts';
import {
  classifyResponse,
  LiteLLMError,
  normaliseErrorBody,
} from '../../operator/src/litellm/errors.ts';
import { hashKey } from '../../operator/src/litellm/hash.ts';
import { echoReply, fakeEmbedding } from '../fake-openai/server.ts';
import { LITELLM_VERSION, startLiteLLMProxy } from '../harness/litellm-proxy.ts';
import { startLiteLLMServer, type LiteLLMTestServer } from '../litellm-server/server.ts';

interface Target {
  url: string;
  masterKey: string;
  chatModel: string;
  mockModel: string;
  mockResponse: string;
  embeddingModel: string;
  stop(): Promise<void>;
}

interface Capabilities {
  /** Key, user and team management work (the real proxy here has no database). */
  database: boolean;
}

const skipReal = process.env.LLM_TENANCY_SKIP_REAL_LITELLM === '1';
if (skipReal) {
  console.warn(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '!! LLM_TENANCY_SKIP_REAL_LITELLM=1: the contract tests against the REAL LiteLLM proxy  !!',
      '!! are SKIPPED. Only the test server was checked; it may have drifted from LiteLLM.    !!',
      '!! Run test/harness/bin/install-litellm.sh and unset the variable to run them.         !!',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '',
    ].join('\n'),
  );
}

/** A raw HTTP call, for shapes the typed client deliberately cannot send or does not expose. */
async function raw(
  target: { url: string },
  method: string,
  path: string,
  options: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; text: string; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${target.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, text, headers: res.headers };
}

async function failure(promise: Promise<unknown>): Promise<LiteLLMError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LiteLLMError);
  return err as LiteLLMError;
}

function parseSse(text: string): { events: Record<string, unknown>[]; done: boolean } {
  const data = text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6));
  return {
    events: data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Record<string, unknown>),
    done: data.at(-1) === '[DONE]',
  };
}

function contractSuite(name: string, caps: Capabilities, start: () => Promise<Target>): void {
  describe(`LiteLLM contract against ${name}`, () => {
    let target: Target;
    let client: LiteLLMClient;

    beforeAll(async () => {
      target = await start();
      client = new LiteLLMClient({
        baseUrl: target.url,
        masterKey: target.masterKey,
        timeoutMs: 30_000,
      });
    }, 240_000);
    afterAll(async () => {
      await target?.stop();
    });

    describe('health', () => {
      it('GET /health/liveliness answers the JSON string "I\'m alive!"', async () => {
        const res = await raw(target, 'GET', '/health/liveliness');
        expect(res.status).toBe(200);
        expect(res.body).toBe("I'm alive!");
      });

      it('GET /health/readiness (unauthenticated) is {status: "healthy", db}', async () => {
        const ready = await client.readiness();
        expect(ready.status).toBe('healthy');
        expect(ready.db).toBe(caps.database ? 'connected' : 'Not connected');
      });
    });

    describe('models', () => {
      it('GET /v1/models lists every model for the master key, OpenAI-shaped', async () => {
        const models = await client.listModels();
        expect(models.object).toBe('list');
        expect(models.data.map((m) => m.id)).toEqual(
          expect.arrayContaining([target.chatModel, target.mockModel, target.embeddingModel]),
        );
        for (const m of models.data) {
          expect(m.object).toBe('model');
          expect(m.owned_by).toBe('openai');
        }
      });

      it('GET /model/info gives litellm_params.model and a model_info.id, never the api_key', async () => {
        const info = await client.modelInfo();
        const chat = info.data.find((d) => d.model_name === target.chatModel);
        expect(chat?.litellm_params.model).toMatch(/^openai\//);
        expect(chat?.model_info?.id).toMatch(/^[0-9a-f]{64}$/);
        expect(chat?.model_info?.mode).toBe('chat');
        expect(
          info.data.find((d) => d.model_name === target.embeddingModel)?.model_info?.mode,
        ).toBe('embedding');
        for (const d of info.data) expect(d.litellm_params).not.toHaveProperty('api_key');
      });
    });

    describe('inference with the master key', () => {
      it('chat completion from the upstream, with usage', async () => {
        const res = await raw(target, 'POST', '/v1/chat/completions', {
          key: target.masterKey,
          body: { model: target.chatModel, messages: [{ role: 'user', content: 'hello world' }] },
        });
        expect(res.status).toBe(200);
        const body = res.body as {
          choices: { message: { content: string } }[];
          usage: Record<string, number>;
        };
        expect(body.choices[0]?.message.content).toBe(echoReply('hello world'));
        expect(body.usage).toMatchObject({
          prompt_tokens: 2,
          completion_tokens: 3,
          total_tokens: 5,
        });
        expect(res.headers.get('x-litellm-call-id')).toBeTruthy();
      });

      it('streaming with stream_options.include_usage: usage in the last chunk, then [DONE]', async () => {
        const res = await raw(target, 'POST', '/v1/chat/completions', {
          key: target.masterKey,
          body: {
            model: target.chatModel,
            messages: [{ role: 'user', content: 'stream me please' }],
            stream: true,
            stream_options: { include_usage: true },
          },
        });
        expect(res.status).toBe(200);
        const { events, done } = parseSse(res.text);
        expect(done).toBe(true);
        const content = events
          .flatMap((e) => (e.choices as { delta?: { content?: string } }[]) ?? [])
          .map((c) => c.delta?.content ?? '')
          .join('');
        expect(content).toBe(echoReply('stream me please'));
        expect(events.at(-1)?.usage).toMatchObject({
          prompt_tokens: 3,
          completion_tokens: 4,
          total_tokens: 7,
        });
        expect(events.slice(0, -1).some((e) => e.usage)).toBe(false);
      });

      it('mock_response models answer without an upstream', async () => {
        const res = await raw(target, 'POST', '/v1/chat/completions', {
          key: target.masterKey,
          body: { model: target.mockModel, messages: [{ role: 'user', content: 'anything' }] },
        });
        expect(res.status).toBe(200);
        expect(
          (res.body as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
        ).toBe(target.mockResponse);
      });

      it('embeddings from the upstream, with usage', async () => {
        const res = await raw(target, 'POST', '/v1/embeddings', {
          key: target.masterKey,
          body: { model: target.embeddingModel, input: 'embed this' },
        });
        expect(res.status).toBe(200);
        const body = res.body as {
          data: { embedding: number[] }[];
          usage: { prompt_tokens: number };
        };
        expect(body.data[0]?.embedding).toEqual(fakeEmbedding('embed this'));
        expect(body.usage.prompt_tokens).toBe(2);
      });

      it('an unknown model → 400 invalid_request_error', async () => {
        const res = await raw(target, 'POST', '/v1/chat/completions', {
          key: target.masterKey,
          body: { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] },
        });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({
          error: {
            message: expect.stringContaining(
              '/chat/completions: Invalid model name passed in model=no-such-model.',
            ),
            type: 'invalid_request_error',
            param: null,
            code: '400',
          },
        });
      });
    });

    describe('error envelopes', () => {
      it('no key → 401 auth_error, param "None"', async () => {
        const res = await raw(target, 'GET', '/v1/models');
        expect(res.status).toBe(401);
        expect(res.body).toEqual({
          error: {
            message: 'Authentication Error, No api key passed in.',
            type: 'auth_error',
            param: 'None',
            code: '401',
          },
        });
      });

      it(`a wrong master key → ${caps.database ? '401 token_not_found_in_db (unauthorized)' : '400 no_db_connection (unavailable: no database)'}`, async () => {
        const wrong = new LiteLLMClient({
          baseUrl: target.url,
          masterKey: 'sk-wrong-master-key-0000',
          retry: { maxAttempts: 1 },
        });
        const err = await failure(wrong.listModels({ object: 'Team t' }));
        if (caps.database) {
          expect(err).toMatchObject({
            status: 401,
            type: 'token_not_found_in_db',
            param: 'key',
            kind: 'unauthorized',
          });
          expect(err.message).toBe(
            'Team t: GET /v1/models: 401 Authentication Error, Invalid API key provided.',
          );
        } else {
          expect(err).toMatchObject({ status: 400, type: 'no_db_connection', kind: 'unavailable' });
        }
        expect(err.message).not.toContain('sk-wrong-master-key-0000');
      });

      it('a body that fails validation → 422 {detail: [...]} → invalid', async () => {
        const res = await raw(target, 'POST', '/key/update', { key: target.masterKey, body: {} });
        expect(res.status).toBe(422);
        expect((res.body as { detail: unknown[] }).detail).toBeInstanceOf(Array);
        expect(classifyResponse(res.status, normaliseErrorBody(res.text))).toBe('invalid');
      });
    });

    // UAK › get_api_key: the first present, non-empty header of x-litellm-api-key,
    // Authorization, API-Key, x-api-key, x-goog-api-key, Ocp-Apim-Subscription-Key carries
    // the key; the others are never looked at. A proxy in front of LiteLLM that checks a
    // different header than LiteLLM uses can be walked around, so these run against both.
    describe('which header carries the key', () => {
      const models = (headers: Record<string, string>) =>
        raw(target, 'GET', '/v1/models', { headers });
      const wrong = 'sk-not-the-master-key-0000';
      const MALFORMED =
        'Authentication Error, Malformed API Key passed in. Ensure Key has `Bearer ` prefix.';

      it('x-litellm-api-key wins over Authorization, both ways', async () => {
        const master = await models({
          'x-litellm-api-key': target.masterKey,
          authorization: `Bearer ${wrong}`,
        });
        expect(master.status).toBe(200);
        const other = await models({
          'x-litellm-api-key': wrong,
          authorization: `Bearer ${target.masterKey}`,
        });
        expect(other.status).not.toBe(200);
        expect(other.text).not.toContain('"data"');
      });

      it('x-litellm-api-key takes the key with or without "Bearer "; an empty one counts as absent', async () => {
        expect((await models({ 'x-litellm-api-key': `Bearer ${target.masterKey}` })).status).toBe(
          200,
        );
        expect(
          (await models({ 'x-litellm-api-key': '', authorization: `Bearer ${target.masterKey}` }))
            .status,
        ).toBe(200);
      });

      it('Authorization wins over API-Key and the other key headers', async () => {
        for (const name of [
          'api-key',
          'x-api-key',
          'x-goog-api-key',
          'ocp-apim-subscription-key',
        ]) {
          expect((await models({ [name]: target.masterKey })).status, name).toBe(200);
          const res = await models({ [name]: target.masterKey, authorization: `Bearer ${wrong}` });
          expect(res.status, name).not.toBe(200);
        }
        // Among those, API-Key comes first.
        expect((await models({ 'api-key': target.masterKey, 'x-api-key': wrong })).status).toBe(
          200,
        );
        expect((await models({ 'api-key': wrong, 'x-api-key': target.masterKey })).status).not.toBe(
          200,
        );
      });

      it('Authorization needs "Bearer " or "bearer ": anything else is malformed, and no other header is tried', async () => {
        expect((await models({ authorization: `bearer ${target.masterKey}` })).status).toBe(200);
        for (const authorization of [
          target.masterKey,
          `BEARER ${target.masterKey}`,
          `Token ${target.masterKey}`,
        ]) {
          const res = await models({ authorization, 'api-key': target.masterKey });
          expect(res.status, authorization.slice(0, 6)).toBe(401);
          expect(res.body).toEqual({
            error: { message: MALFORMED, type: 'auth_error', param: 'None', code: '401' },
          });
        }
      });
    });

    if (!caps.database)
      describe('management without a database', () => {
        it.each([
          ['newTeam', (c: LiteLLMClient) => c.newTeam({ team_id: 't' })],
          ['newUser', (c: LiteLLMClient) => c.newUser({ user_id: 'u' })],
          ['generateKey', (c: LiteLLMClient) => c.generateKey({ key: 'sk-0123456789abcdef' })],
          ['keyInfo', (c: LiteLLMClient) => c.keyInfo('sk-0123456789abcdef')],
          ['listTeams', (c: LiteLLMClient) => c.listTeams()],
          [
            'addTeamMembers',
            (c: LiteLLMClient) =>
              c.addTeamMembers({ team_id: 't', member: { role: 'user', user_id: 'u' } }),
          ],
        ] as const)('%s is reported unavailable ("No db connected")', async (_name, call) => {
          const err = await failure(call(client));
          expect(err.kind).toBe('unavailable');
          expect(err.terminal).toBe(false);
        });

        it('/key/regenerate is Enterprise-only: 500 → enterpriseOnly', async () => {
          const res = await raw(target, 'POST', '/key/regenerate', {
            key: target.masterKey,
            body: { key: 'sk-0123456789abcdef' },
          });
          expect(res.status).toBe(500);
          const body = normaliseErrorBody(res.text);
          expect(body.message).toContain('Regenerating Virtual Keys is an Enterprise feature');
          expect(classifyResponse(res.status, body)).toBe('enterpriseOnly');
        });
      });

    if (caps.database) {
      describe('management', () => {
        managementSuite(() => ({
          target,
          client,
          server: (target as Target & { server: ClockedServer }).server,
        }));
      });
    }
  });
}

type ClockedServer = LiteLLMTestServer & { clock: ReturnType<typeof movableClock> };

interface ManagementContext {
  target: Target;
  client: LiteLLMClient;
  server: ClockedServer;
}

/** Everything that needs LiteLLM's database: run against the test server only. */
function managementSuite(get: () => ManagementContext): void {
  let n = 0;
  const unique = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const newKey = () => `sk-test-${crypto.randomUUID()}`;
  const chat = (key: string, model: string) =>
    raw(get().target, 'POST', '/v1/chat/completions', {
      key,
      body: { model, messages: [{ role: 'user', content: 'hi' }] },
    });

  describe('users', () => {
    it('/user/new with auto_create_key=false creates the row only; /user/info reads it', async () => {
      const { client } = get();
      const id = unique('alice');
      const created = await client.newUser({
        user_id: id,
        user_email: `${id}@example.com`,
        user_role: 'internal_user',
        max_budget: 10,
      });
      expect(created.key).toBe('');
      const info = await client.userInfo(id);
      expect(info.user_info).toMatchObject({
        user_id: id,
        user_role: 'internal_user',
        max_budget: 10,
        spend: 0,
        models: [],
      });
      expect(info.keys).toEqual([]);
    });

    it('/user/new without auto_create_key mints a key (LiteLLM default true)', async () => {
      const { target } = get();
      const res = await raw(target, 'POST', '/user/new', {
        key: target.masterKey,
        body: { user_id: unique('minted') },
      });
      expect(res.status).toBe(200);
      expect((res.body as { key: string }).key).toMatch(/^sk-/);
    });

    it('an existing user_id or user_email → 409 conflict', async () => {
      const { client } = get();
      const id = unique('dup');
      await client.newUser({ user_id: id, user_email: `${id}@example.com` });
      const byId = await failure(client.newUser({ user_id: id }));
      expect(byId).toMatchObject({
        status: 409,
        kind: 'conflict',
        detail: `User with id ${id} already exists`,
        type: 'internal_server_error',
      });
      const byEmail = await failure(
        client.newUser({ user_id: unique('other'), user_email: `${id.toUpperCase()}@EXAMPLE.COM` }),
      );
      expect(byEmail).toMatchObject({ status: 409, kind: 'conflict' });
    });

    it('teams that cannot be joined are swallowed; the response lists the joined ones', async () => {
      const { client } = get();
      const team = unique('team');
      await client.newTeam({ team_id: team });
      const created = await client.newUser({
        user_id: unique('joiner'),
        teams: [team, 'no-such-team'],
      });
      expect(created.teams).toEqual([team]);
    });

    it('user_role "team" is not accepted (422)', async () => {
      const { target } = get();
      const res = await raw(target, 'POST', '/user/new', {
        key: target.masterKey,
        body: { user_id: unique('r'), user_role: 'team' },
      });
      expect(res.status).toBe(422);
    });

    it('/user/update upserts; null clears max_budget; [] for models is ignored', async () => {
      const { client } = get();
      const id = unique('upsert');
      const upserted = await client.updateUser({
        user_id: id,
        max_budget: 5,
        models: ['gpt-test'],
      });
      expect(upserted.data).toMatchObject({ user_id: id, max_budget: 5, models: ['gpt-test'] });
      const cleared = await client.updateUser({ user_id: id, max_budget: null, models: [] });
      expect(cleared.data).toMatchObject({ max_budget: null, models: ['gpt-test'] });
    });

    it('/user/list is {users, total, page, page_size, total_pages}; a single user_ids value is a substring match', async () => {
      const { client } = get();
      const base = unique('listme');
      for (const s of ['a', 'b', 'c']) await client.newUser({ user_id: `${base}-${s}` });
      const page = await client.listUsers({ user_ids: [base], page_size: 2, page: 1 });
      expect(page).toMatchObject({ total: 3, page: 1, page_size: 2, total_pages: 2 });
      expect(page.users).toHaveLength(2);
      expect(page.users[0]).toHaveProperty('key_count');
      const exact = await client.listUsers({ user_ids: [`${base}-a`, `${base}-b`] });
      expect(exact.users.map((u) => u.user_id).sort()).toEqual([`${base}-a`, `${base}-b`]);
      expect((await failure(client.listUsers({ page_size: 101 }))).kind).toBe('invalid');
    });

    it('/user/delete answers the count, deletes their keys; one unknown id fails the whole call', async () => {
      const { client } = get();
      const id = unique('gone');
      await client.newUser({ user_id: id });
      const key = newKey();
      await client.generateKey({ key, user_id: id });
      const missing = await failure(client.deleteUsers([id, 'no-such-user']));
      expect(missing).toMatchObject({
        status: 404,
        kind: 'notFound',
        detail: 'User not found, passed user_id=no-such-user',
      });
      expect((await client.userInfo(id)).user_id).toBe(id);
      expect(await client.deleteUsers([id])).toBe(1);
      expect((await failure(client.userInfo(id))).kind).toBe('notFound');
      expect((await failure(client.keyInfo(key))).kind).toBe('notFound');
    });
  });

  describe('teams', () => {
    it('/team/new adds default_user_id as admin (master key); admins listed at creation need no licence', async () => {
      const { client } = get();
      const id = unique('ml');
      const team = await client.newTeam({
        team_id: id,
        team_alias: 'ML',
        models: ['gpt-test'],
        max_budget: 100,
        members_with_roles: [
          { role: 'admin', user_id: 'alice-admin' },
          { role: 'user', user_id: 'bob' },
        ],
      });
      expect(team.members_with_roles).toEqual([
        { role: 'admin', user_id: 'alice-admin', user_email: null },
        { role: 'user', user_id: 'bob', user_email: null },
        { role: 'admin', user_id: 'default_user_id', user_email: null },
      ]);
      expect((await client.userInfo('bob')).user_info?.teams).toContain(id);
    });

    it('an existing team_id → 400, classified conflict', async () => {
      const { client } = get();
      const id = unique('dup');
      await client.newTeam({ team_id: id });
      const err = await failure(client.newTeam({ team_id: id }, { object: `Team ${id}` }));
      expect(err).toMatchObject({ status: 400, kind: 'conflict' });
      expect(err.message).toBe(
        `Team ${id}: POST /team/new: 400 Team id = ${id} already exists. Please use a different team id.`,
      );
    });

    it('max_parallel_requests on /team/new is silently dropped', async () => {
      const { target, client } = get();
      const id = unique('par');
      const res = await raw(target, 'POST', '/team/new', {
        key: target.masterKey,
        body: { team_id: id, max_parallel_requests: 4 },
      });
      expect(res.status).toBe(200);
      expect((await client.teamInfo(id)).team_info.max_parallel_requests).toBeNull();
    });

    it('/team/info of an unknown team → 404 notFound', async () => {
      const { client } = get();
      const err = await failure(client.teamInfo('no-such-team'));
      expect(err).toMatchObject({
        status: 404,
        kind: 'notFound',
        type: 'auth_error',
        detail: 'Team not found, passed team id: no-such-team.',
      });
    });

    it('/team/update: null clears, metadata is replaced wholesale, members are untouched', async () => {
      const { client } = get();
      const id = unique('upd');
      await client.newTeam({
        team_id: id,
        max_budget: 10,
        tpm_limit: 100,
        metadata: { owner: 'x', keep: 'no' },
      });
      const updated = await client.updateTeam({
        team_id: id,
        max_budget: null,
        metadata: { owner: 'y' },
        models: ['gpt-test'],
      });
      expect(updated.data).toMatchObject({
        max_budget: null,
        tpm_limit: 100,
        metadata: { owner: 'y' },
        models: ['gpt-test'],
      });
      expect((await client.teamInfo(id)).team_info.members_with_roles).toEqual([
        { role: 'admin', user_id: 'default_user_id', user_email: null },
      ]);
      expect(
        (await failure(client.updateTeam({ team_id: 'no-such-team', max_budget: 1 }))).kind,
      ).toBe('notFound');
    });

    it('/team/member_add: a user member; again → conflict; an admin → enterpriseOnly', async () => {
      const { client } = get();
      const id = unique('members');
      await client.newTeam({ team_id: id });
      const added = await client.addTeamMembers({
        team_id: id,
        member: { role: 'user', user_id: 'carol' },
      });
      expect(added.members_with_roles).toContainEqual({
        role: 'user',
        user_id: 'carol',
        user_email: null,
      });
      const again = await failure(
        client.addTeamMembers({ team_id: id, member: { role: 'user', user_id: 'carol' } }),
      );
      expect(again).toMatchObject({
        status: 400,
        kind: 'conflict',
        type: 'team_member_already_in_team',
      });
      const list = await client.addTeamMembers({
        team_id: id,
        member: [
          { role: 'user', user_id: 'carol' },
          { role: 'user', user_id: 'dave' },
        ],
      });
      expect(list.members_with_roles?.filter((m) => m.user_id === 'carol')).toHaveLength(1);
      const admin = await failure(
        client.addTeamMembers(
          { team_id: id, member: { role: 'admin', user_id: 'erin' } },
          { object: `Team ${id}` },
        ),
      );
      expect(admin).toMatchObject({ status: 400, kind: 'enterpriseOnly', terminal: true });
      expect(admin.message).toContain('this feature needs a LiteLLM Enterprise licence');
      expect(
        (
          await failure(
            client.addTeamMembers({
              team_id: 'no-such-team',
              member: { role: 'user', user_id: 'x' },
            }),
          )
        ).kind,
      ).toBe('notFound');
    });

    it('/team/member_update: role admin is Enterprise-only; role user works', async () => {
      const { client } = get();
      const id = unique('mu');
      await client.newTeam({
        team_id: id,
        members_with_roles: [{ role: 'admin', user_id: 'frank' }],
      });
      expect(
        (await failure(client.updateTeamMember({ team_id: id, user_id: 'frank', role: 'admin' })))
          .kind,
      ).toBe('enterpriseOnly');
      const demoted = await client.updateTeamMember({
        team_id: id,
        user_id: 'frank',
        role: 'user',
      });
      expect(demoted).toMatchObject({ team_id: id, user_id: 'frank' });
      expect((await client.teamInfo(id)).team_info.members_with_roles).toContainEqual({
        role: 'user',
        user_id: 'frank',
        user_email: null,
      });
    });

    it("/team/member_delete deletes the member's keys in that team only; again → notFound", async () => {
      const { client } = get();
      const [a, b] = [unique('a'), unique('b')];
      await client.newTeam({ team_id: a, members_with_roles: [{ role: 'user', user_id: 'gina' }] });
      await client.newTeam({ team_id: b, members_with_roles: [{ role: 'user', user_id: 'gina' }] });
      const [inA, inB] = [newKey(), newKey()];
      await client.generateKey({ key: inA, user_id: 'gina', team_id: a });
      await client.generateKey({ key: inB, user_id: 'gina', team_id: b });
      await client.deleteTeamMember({ team_id: a, user_id: 'gina' });
      expect((await failure(client.keyInfo(inA))).kind).toBe('notFound');
      expect((await client.keyInfo(inB)).info.team_id).toBe(b);
      expect((await client.userInfo('gina')).user_info?.teams).toEqual(
        expect.not.arrayContaining([a]),
      );
      const again = await failure(client.deleteTeamMember({ team_id: a, user_id: 'gina' }));
      expect(again).toMatchObject({
        status: 400,
        kind: 'notFound',
        detail: 'User not found in team',
      });
    });

    it('/team/block makes the team keys 401; /team/unblock restores them', async () => {
      const { client, target } = get();
      const id = unique('blk');
      await client.newTeam({ team_id: id });
      const key = newKey();
      await client.generateKey({ key, team_id: id });
      expect((await client.blockTeam(id)).blocked).toBe(true);
      const blocked = await chat(key, target.chatModel);
      expect(blocked.status).toBe(401);
      expect(blocked.body).toMatchObject({
        error: { type: 'auth_error', message: expect.stringContaining(`Team=${id} is blocked`) },
      });
      await client.unblockTeam(id);
      expect((await chat(key, target.chatModel)).status).toBe(200);
    });

    it('/team/delete deletes the teams and their keys; an unknown id fails the whole call', async () => {
      const { client } = get();
      const id = unique('del');
      await client.newTeam({ team_id: id });
      const key = newKey();
      await client.generateKey({ key, team_id: id });
      expect((await failure(client.deleteTeams([id, 'no-such-team']))).kind).toBe('notFound');
      expect(await client.deleteTeams([id])).toEqual({ deleted_teams: [id] });
      expect((await failure(client.teamInfo(id))).kind).toBe('notFound');
      expect((await failure(client.keyInfo(key))).kind).toBe('notFound');
    });

    it('/team/list is a bare array, filterable by user_id', async () => {
      const { client } = get();
      const id = unique('lst');
      await client.newTeam({
        team_id: id,
        members_with_roles: [{ role: 'user', user_id: 'hank' }],
      });
      const all = await client.listTeams();
      expect(all.map((t) => t.team_id)).toContain(id);
      expect((await client.listTeams({ user_id: 'hank' })).map((t) => t.team_id)).toEqual([id]);
    });
  });

  describe('keys', () => {
    it('/key/generate with our own key: token = SHA-256 of the key; /key/info by hash', async () => {
      const { client } = get();
      const key = newKey();
      const generated = await client.generateKey({
        key,
        key_alias: unique('alias'),
        models: ['gpt-test'],
        max_budget: 5,
        metadata: { owner: 'ns/vk' },
      });
      expect(generated).toMatchObject({
        key,
        token: hashKey(key),
        token_id: hashKey(key),
        key_name: `sk-...${key.slice(-4)}`,
        expires: null,
      });
      const info = await client.keyInfo(key);
      expect(info.key).toBe(hashKey(key)); // the client sent the hash; LiteLLM echoes it
      expect(info.info).toMatchObject({
        models: ['gpt-test'],
        max_budget: 5,
        metadata: { owner: 'ns/vk' },
        status: 'active',
        spend: 0,
      });
      expect(info.info).not.toHaveProperty('token');
    });

    it('a duplicate key value answers 200 and CHANGES NOTHING: /key/info tells the truth', async () => {
      const { client } = get();
      const key = newKey();
      await client.generateKey({ key, models: ['gpt-test'], max_budget: 5 });
      const second = await client.generateKey({ key, models: ['emb-test'], max_budget: 50 });
      expect(second).toMatchObject({ token: hashKey(key), models: ['emb-test'], max_budget: 50 }); // echo of the request
      expect((await client.keyInfo(key)).info).toMatchObject({
        models: ['gpt-test'],
        max_budget: 5,
      });
    });

    it('a duplicate alias → 400 bad_request_error, param key_alias (conflict)', async () => {
      const { client } = get();
      const alias = unique('alias');
      await client.generateKey({ key: newKey(), key_alias: alias });
      const err = await failure(client.generateKey({ key: newKey(), key_alias: alias }));
      expect(err).toMatchObject({
        status: 400,
        kind: 'conflict',
        type: 'bad_request_error',
        param: 'key_alias',
      });
    });

    it('expiry comes from duration only; `expires` in the body is ignored', async () => {
      const { target, client } = get();
      const key = newKey();
      const res = await raw(target, 'POST', '/key/generate', {
        key: target.masterKey,
        body: { key, expires: '2030-01-01T00:00:00Z' },
      });
      expect(res.status).toBe(200);
      expect((await client.keyInfo(key)).info.expires).toBeNull();
      const timed = newKey();
      const generated = await client.generateKey({ key: timed, duration: '1h' });
      expect(Date.parse(generated.expires!)).toBeGreaterThan(Date.now() + 59 * 60_000);
    });

    it('/key/update: merge-patch, null clears, metadata replaced, model limits folded into metadata', async () => {
      const { client } = get();
      const key = newKey();
      await client.generateKey({ key, max_budget: 5, tpm_limit: 10, metadata: { a: 1, b: 2 } });
      const updated = await client.updateKey({
        key,
        max_budget: null,
        metadata: { a: 3 },
        model_rpm_limit: { 'gpt-test': 7 },
      });
      expect(updated).toMatchObject({
        max_budget: null,
        tpm_limit: 10,
        metadata: { a: 3, model_rpm_limit: { 'gpt-test': 7 } },
      });
      expect((await failure(client.updateKey({ key: newKey(), max_budget: 1 }))).kind).toBe(
        'notFound',
      );
    });

    it('Enterprise-gated key fields answer like LiteLLM without a licence', async () => {
      const { target } = get();
      const tags = await raw(target, 'POST', '/key/generate', {
        key: target.masterKey,
        body: { key: newKey(), tags: ['a'] },
      });
      expect(tags.status).toBe(403);
      expect(classifyResponse(tags.status, normaliseErrorBody(tags.text))).toBe('enterpriseOnly');
      const emptyTags = await raw(target, 'POST', '/key/generate', {
        key: target.masterKey,
        body: { key: newKey(), tags: [] },
      });
      expect(emptyTags.status).toBe(200);
      const budget = await raw(target, 'POST', '/key/generate', {
        key: target.masterKey,
        body: { key: newKey(), model_max_budget: { 'gpt-test': 1 } },
      });
      expect(budget.status).toBe(500);
      expect(classifyResponse(budget.status, normaliseErrorBody(budget.text))).toBe(
        'enterpriseOnly',
      );
      const regen = await raw(target, 'POST', '/key/regenerate', {
        key: target.masterKey,
        body: { key: newKey() },
      });
      expect(regen.status).toBe(500);
      expect(normaliseErrorBody(regen.text).message).toMatch(
        /^Regenerating Virtual Keys is an Enterprise feature/,
      );
    });

    it('/key/block → 401 at request time and status revoked; /key/unblock restores', async () => {
      const { client, target } = get();
      const key = newKey();
      await client.generateKey({ key });
      expect((await client.blockKey(key)).blocked).toBe(true);
      expect((await client.keyInfo(key)).info.status).toBe('revoked');
      const res = await chat(key, target.chatModel);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({
        error: { type: 'auth_error', message: expect.stringContaining('Key is blocked') },
      });
      await client.unblockKey(hashKey(key));
      expect((await chat(key, target.chatModel)).status).toBe(200);
    });

    it('/key/delete archives: /key/info answers status "deleted"; a second delete → notFound', async () => {
      const { client } = get();
      const key = newKey();
      await client.generateKey({ key });
      expect(await client.deleteKeys({ keys: [key] })).toEqual({ deleted_keys: [hashKey(key)] });
      expect((await client.keyInfo(key)).info.status).toBe('deleted');
      expect((await failure(client.deleteKeys({ keys: [key] }))).kind).toBe('notFound');
      const never = await failure(client.keyInfo(newKey()));
      expect(never).toMatchObject({
        status: 404,
        kind: 'notFound',
        type: 'not_found_error',
        param: 'key',
      });
    });

    it('/key/list: hashes unless return_full_object; `size` pages; filters by team', async () => {
      const { client } = get();
      const team = unique('keys');
      await client.newTeam({ team_id: team });
      const keys = [newKey(), newKey(), newKey()];
      for (const key of keys) await client.generateKey({ key, team_id: team });
      const page = await client.listKeys({ team_id: team, size: 2, page: 1 });
      expect(page).toMatchObject({ total_count: 3, current_page: 1, total_pages: 2 });
      expect(page.keys).toHaveLength(2);
      for (const k of page.keys) expect(k).toMatch(/^[0-9a-f]{64}$/);
      const full = await client.listKeys({ team_id: team, size: 100, return_full_object: true });
      expect(full.keys.map((k) => (typeof k === 'string' ? k : k.token)).sort()).toEqual(
        keys.map(hashKey).sort(),
      );
    });
  });

  describe('request time (what the gateway mirrors)', () => {
    it("/v1/models with a virtual key lists only its models (or its team's)", async () => {
      const { client, target } = get();
      const key = newKey();
      await client.generateKey({ key, models: [target.chatModel] });
      const own = await raw(target, 'GET', '/v1/models', { key });
      expect((own.body as { data: { id: string }[] }).data.map((m) => m.id)).toEqual([
        target.chatModel,
      ]);
      const team = unique('tm');
      await client.newTeam({ team_id: team, models: [target.embeddingModel] });
      const teamKey = newKey();
      await client.generateKey({ key: teamKey, team_id: team });
      const viaTeam = await raw(target, 'GET', '/v1/models', { key: teamKey });
      expect((viaTeam.body as { data: { id: string }[] }).data.map((m) => m.id)).toEqual([
        target.embeddingModel,
      ]);
    });

    it("a model outside the key's models → 403 key_model_access_denied", async () => {
      const { client, target } = get();
      const key = newKey();
      await client.generateKey({ key, models: [target.chatModel] });
      const res = await chat(key, target.mockModel);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        error: {
          message: `The requested model '${target.mockModel}' is not available for this API key, or the model name is invalid. Check the models available to you and try again.`,
          type: 'key_model_access_denied',
          param: 'model',
          code: '403',
        },
      });
    });

    it('unknown and expired keys → 401 token_not_found_in_db / expired_key', async () => {
      const { client, target, server } = get();
      const unknown = await chat(newKey(), target.chatModel);
      expect(unknown.status).toBe(401);
      expect(unknown.body).toMatchObject({
        error: {
          type: 'token_not_found_in_db',
          param: 'key',
          message: 'Authentication Error, Invalid API key provided.',
        },
      });
      const key = newKey();
      await client.generateKey({ key, duration: '1h' });
      server.clock.advance(2 * 3600_000);
      try {
        const expired = await chat(key, target.chatModel);
        expect(expired.status).toBe(401);
        expect(expired.body).toMatchObject({
          error: { type: 'expired_key', message: expect.stringContaining('Expired Key') },
        });
        expect((await client.keyInfo(key)).info.status).toBe('expired');
      } finally {
        server.clock.reset();
      }
    });

    it('a key_type llm_api key reaches the LLM API routes only: management routes → 403 detail', async () => {
      const { client, target } = get();
      const key = newKey();
      const generated = await client.generateKey({
        key,
        key_type: 'llm_api',
        models: [target.chatModel],
      });
      expect(generated.allowed_routes).toEqual(['llm_api_routes']);
      expect((await chat(key, target.chatModel)).status).toBe(200);
      expect((await raw(target, 'GET', '/v1/models', { key })).status).toBe(200);
      for (const [method, path, body] of [
        ['POST', '/key/generate', { key_alias: 'escalate' }],
        ['POST', '/user/new', { user_id: 'escalate', user_role: 'proxy_admin' }],
        ['POST', '/team/new', { team_id: 'escalate' }],
        ['POST', '/key/update', { key, models: [] }],
        ['GET', '/key/info', undefined],
        ['GET', '/key/list', undefined],
      ] as const) {
        const res = await raw(target, method, path, { key, body });
        expect(res.status, path).toBe(403);
        expect(res.body, path).toEqual({
          detail: `Virtual key is not allowed to call this route. Only allowed to call routes: ['llm_api_routes']. Tried to call route: ${path}`,
        });
      }
      // The route check runs after the key's own: a blocked key is refused as blocked.
      await client.blockKey(hashKey(key));
      const blocked = await raw(target, 'POST', '/key/generate', { key, body: {} });
      expect(blocked.status).toBe(401);
      expect((blocked.body as { error: { message: string } }).error.message).toContain(
        'Key is blocked',
      );
    });

    it('a default key may read itself (info_routes) but no management write; /key/update allowed_routes limits it', async () => {
      const { client, target } = get();
      const key = newKey();
      await client.generateKey({ key });
      expect((await raw(target, 'GET', '/key/info', { key })).status).toBe(200);
      const write = await raw(target, 'POST', '/key/generate', { key, body: {} });
      expect(write.status).toBe(401);
      expect((write.body as { error: { message: string } }).error.message).toContain(
        'Only proxy admin can be used',
      );
      const updated = await client.updateKey({
        key: hashKey(key),
        allowed_routes: ['llm_api_routes'],
      });
      expect(updated.allowed_routes).toEqual(['llm_api_routes']);
      expect((await client.keyInfo(key)).info.allowed_routes).toEqual(['llm_api_routes']);
      expect((await raw(target, 'GET', '/key/info', { key })).status).toBe(403);
      expect((await chat(key, target.chatModel)).status).toBe(200);
    });

    it('a key is valid up to and at its expiry instant, refused after it (`expires < now`)', async () => {
      const { client, target, server } = get();
      const start = new Date('2030-01-01T00:00:00Z');
      server.clock.freeze(start);
      try {
        const key = newKey();
        await client.generateKey({ key, duration: '1h' });
        server.clock.freeze(new Date(start.getTime() + 3600_000));
        expect((await chat(key, target.chatModel)).status).toBe(200);
        expect((await client.keyInfo(key)).info.status).toBe('active');
        server.clock.freeze(new Date(start.getTime() + 3600_001));
        expect((await chat(key, target.chatModel)).status).toBe(401);
        expect((await client.keyInfo(key)).info.status).toBe('expired');
      } finally {
        server.clock.reset();
      }
    });

    it('spend is booked on the key; over budget → 422 budget_exceeded', async () => {
      const { client, target } = get();
      const key = newKey();
      await client.generateKey({ key, max_budget: 0.000001 });
      expect((await chat(key, target.chatModel)).status).toBe(200);
      expect((await client.keyInfo(key)).info.spend).toBeGreaterThan(0);
      const over = await chat(key, target.chatModel);
      expect(over.status).toBe(422);
      expect(over.body).toMatchObject({
        error: { type: 'budget_exceeded', param: null, code: '422' },
      });
    });
  });

  describe('test controls', () => {
    afterEach(async () => {
      await raw(get().target, 'DELETE', '/__test/faults');
    });

    it('POST /__test/faults injects a fault for N calls; GET /__test/calls counts and resets', async () => {
      const { target, client } = get();
      await raw(target, 'DELETE', '/__test/calls');
      const set = await raw(target, 'POST', '/__test/faults', {
        body: { route: '/team/*', method: 'GET', status: 503, retryAfter: 0, times: 1 },
      });
      expect(set.status).toBe(200);
      const team = unique('ctl');
      await client.newTeam({ team_id: team });
      await client.teamInfo(team); // 503 once, retried by the client
      await client.listModels();
      const calls = (await raw(target, 'GET', '/__test/calls')).body as {
        calls: Record<string, number>;
        writes: number;
        total: number;
      };
      expect(calls).toEqual({
        calls: { 'GET /team/info': 2, 'GET /v1/models': 1, 'POST /team/new': 1 },
        total: 4,
        writes: 1,
      });
      await raw(target, 'DELETE', '/__test/calls');
      expect((await raw(target, 'GET', '/__test/calls')).body).toEqual({
        calls: {},
        total: 0,
        writes: 0,
      });
    });

    it('a read-only pass makes 0 writes', async () => {
      const { target, client } = get();
      const team = unique('ro');
      await client.newTeam({ team_id: team });
      await raw(target, 'DELETE', '/__test/calls');
      await client.teamInfo(team);
      await client.listKeys({ team_id: team });
      expect(((await raw(target, 'GET', '/__test/calls')).body as { writes: number }).writes).toBe(
        0,
      );
    });
  });
}

// ---- the targets ---------------------------------------------------------------------

/** A clock the test server reads, which tests may move forward. */
function movableClock() {
  let offset = 0;
  let frozen: Date | undefined;
  return {
    now: () => (frozen ? new Date(frozen) : new Date(Date.now() + offset)),
    advance: (ms: number) => (offset += ms),
    /** Stops time at `at` until reset(): for comparisons at an exact instant. */
    freeze: (at: Date) => (frozen = at),
    reset: () => {
      offset = 0;
      frozen = undefined;
    },
  };
}

contractSuite(
  'the LiteLLM-compatible test server (test/litellm-server)',
  { database: true },
  async () => {
    const clock = movableClock();
    const server = await startLiteLLMServer({
      masterKey: `sk-master-${crypto.randomUUID()}`,
      models: [
        'gpt-test',
        { model_name: 'mock-test', mock_response: 'hello from mock' },
        'emb-test',
      ],
      now: clock.now,
    });
    return {
      url: server.url,
      masterKey: server.masterKey,
      chatModel: 'gpt-test',
      mockModel: 'mock-test',
      mockResponse: 'hello from mock',
      embeddingModel: 'emb-test',
      server: Object.assign(server, { clock }),
      stop: () => server.stop(),
    };
  },
);

describe.skipIf(skipReal)(`real LiteLLM ${LITELLM_VERSION}`, () => {
  contractSuite(
    `the real LiteLLM ${LITELLM_VERSION} proxy (PyPI, no database)`,
    { database: false },
    async () => {
      const proxy = await startLiteLLMProxy();
      console.info(
        `real LiteLLM ${proxy.version} ready in ${(proxy.startupMs / 1000).toFixed(1)}s at ${proxy.url}`,
      );
      return proxy;
    },
  );
});
