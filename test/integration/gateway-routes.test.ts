// The gateway's route allowlist against a recording upstream: what a hostile caller tries
// (doubled prefixes, encoded slashes with a text body, dot and empty segments, the routes that
// reach models without naming one, rerank and multipart audio with another model, model names
// in the path, batches whose input file names another model) is refused in OpenAI's shape and never reaches the upstream; what is allowed
// goes through on the normalised path, its body unchanged, counted in the key's limits.
import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { openAIErrorIn } from './support/openai-error.ts';
import { startGatewayBed, type GatewayBed, type TestKey } from './support/gateway-bed.ts';
import { startRecordingUpstream, type RecordingUpstream } from './support/recording-upstream.ts';

let bed: GatewayBed;
let upstream: RecordingUpstream;
let gateway: RunningGateway;
let key: TestKey;

beforeAll(async () => {
  bed = await startGatewayBed(inject('redisUrl'));
  upstream = await startRecordingUpstream();
  gateway = await bed.startGateway({ LITELLM_URL: upstream.url, BODY_LIMIT: '64Ki' });
});
afterAll(async () => {
  await bed?.stop();
  await upstream?.stop();
});
beforeEach(async () => {
  key = await bed.addKey({ models: ['fake-model'] });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with its path sent exactly as given (fetch would resolve dot segments). */
function send(
  method: string,
  path: string,
  options: {
    key?: string;
    type?: string;
    body?: string | Buffer;
    chunked?: Buffer[];
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  if (options.type !== undefined) headers['content-type'] = options.type;
  // Node's client frames a GET or DELETE body with no Content-Length at all (it sends none
  // for those methods): the server would read the body as the next request.
  if (options.body !== undefined)
    headers['content-length'] = String(Buffer.byteLength(options.body));
  const { port, hostname } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    // A gateway that refuses a body mid-way may close the connection before reading it all.
    req.on('error', reject);
    if (options.chunked) {
      for (const chunk of options.chunked) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

const json = (body: unknown) => ({ type: 'application/json', body: JSON.stringify(body) });
const chatBody = (model = 'fake-model') => ({
  model,
  messages: [{ role: 'user', content: 'hello' }],
});

/** An OpenAI-shaped error with `status`. */
function expectError(answer: Answer, status: number) {
  expect(answer.status, answer.body).toBe(status);
  return openAIErrorIn(answer.body, status);
}

/** Runs `act` and asserts that nothing reached the upstream meanwhile. */
async function nothingForwarded(act: () => Promise<void>) {
  const before = upstream.requests.length;
  await act();
  expect(upstream.requests.slice(before)).toEqual([]);
}

/** Runs `act` and returns what reached the upstream meanwhile. */
async function forwarded(act: () => Promise<void>) {
  const before = upstream.requests.length;
  await act();
  return upstream.requests.slice(before);
}

/** A multipart/form-data body with its parts in the order given. */
function multipart(parts: { name: string; value: string | Buffer; filename?: string }[]) {
  const boundary = `----llmtenancy${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
    const type = part.filename ? 'content-type: audio/wav\r\n' : '';
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: ${disposition}\r\n${type}\r\n`));
    chunks.push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) };
}

const audio = Buffer.alloc(4096, 7);

describe('paths', () => {
  it('answers /v1/v1/chat/completions with 404 and forwards nothing', async () => {
    await nothingForwarded(async () => {
      const answer = await send('POST', '/v1/v1/chat/completions', {
        key: key.key,
        ...json(chatBody('not-subscribed')),
      });
      expect(expectError(answer, 404).message).toContain('/v1/v1/chat/completions');
    });
  });

  it('refuses an encoded slash with a text/plain body (400), and forwards nothing', async () => {
    await nothingForwarded(async () => {
      const answer = await send('POST', '/v1/chat%2Fcompletions', {
        key: key.key,
        type: 'text/plain',
        body: JSON.stringify(chatBody('not-subscribed')),
      });
      expect(expectError(answer, 400).message).toContain('encoded slash');
    });
  });

  it.each([
    '/v1/chat%2fcompletions',
    '/v1/chat%5Ccompletions',
    '/v1//chat/completions',
    '//v1/chat/completions',
    '/v1/chat/completions/',
    '/v1/models/../chat/completions',
    '/v1/./chat/completions',
    '/v1/x/%2e%2e/chat/completions',
    '/v1/chat/completions/%2E',
    '/v1/chat/%zzcompletions',
  ])('refuses %s with 400 before the key is looked at, and forwards nothing', async (path) => {
    await nothingForwarded(async () => {
      // No key at all: the path is refused first, so the caller learns nothing about keys.
      const answer = await send('POST', path, json(chatBody('not-subscribed')));
      expectError(answer, 400);
    });
  });

  it('answers the routes it does not serve with 404, before the key is checked', async () => {
    await nothingForwarded(async () => {
      for (const [method, path] of [
        ['POST', '/chat/completions'],
        ['POST', '/key/generate'],
        ['GET', '/v1/mcp/server'],
        ['POST', '/v1/mcp/tools/call'],
        ['POST', '/v1/audio/translations'],
        ['POST', '/v1/images/variations'],
        ['GET', '/v1/chat/completions'],
        ['PUT', '/v1/files'],
        ['POST', '/anthropic/v1/messages'],
        ['POST', '/vllm/v1/chat/completions'],
        // Methods fastify routes nowhere (its router knows them not): the guard's 404 all the same.
        ['PURGE', '/v1/chat/completions'],
        ['LINK', '/v1/models'],
      ] as const) {
        expectError(await send(method, path), 404);
        expectError(await send(method, path, { key: key.key, ...json(chatBody()) }), 404);
      }
    });
  });

  it('refuses an unknown route before the key: 404 with an unknown key too, never auth_error', async () => {
    await nothingForwarded(async () => {
      for (const auth of [{}, { key: 'sk-nobody-has-this' }, { key: key.key }]) {
        const error = expectError(await send('POST', '/v1/v1/chat/completions', auth), 404);
        expect(error.type).toBe('invalid_request_error');
        expectError(await send('POST', '/v1//chat/completions', auth), 400);
      }
      // The refusal names the route, never its query string (which may carry anything).
      const named = expectError(await send('POST', '/v1/v1/chat/completions?key=sk-secret'), 404);
      expect(named.message).toContain('POST /v1/v1/chat/completions');
      expect(named.message).not.toContain('sk-secret');
    });
  });

  it('answers Expect: 100-continue on a refused route or body without asking for the body, and closes', async () => {
    /** Headers only; whichever comes first, 100 Continue or the answer. */
    const firstSignal = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; connection: string | undefined; body: string }>(
        (resolve, reject) => {
          const { port, hostname } = new URL(gateway.url);
          const req = httpRequest({
            host: hostname,
            port,
            method: 'POST',
            path,
            agent: false,
            headers: {
              'content-type': 'application/json',
              'content-length': '1048576',
              expect: '100-continue',
              ...headers,
            },
          });
          req.once('continue', () => {
            req.destroy();
            reject(new Error('100 Continue on a refused route'));
          });
          req.once('response', (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString('utf8')));
            res.once('end', () =>
              resolve({ status: res.statusCode!, connection: res.headers.connection, body }),
            );
          });
          req.once('error', (err) => (err.message.includes('hang up') ? undefined : reject(err)));
          req.flushHeaders();
        },
      );
    await nothingForwarded(async () => {
      for (const [path, status] of [
        ['/v1/v1/chat/completions', 404],
        ['/v1/chat%2Fcompletions', 400],
      ] as const) {
        for (const headers of [{}, { authorization: `Bearer ${key.key}` }] as Record<
          string,
          string
        >[]) {
          const answer = await firstSignal(path, headers);
          expect(answer.status).toBe(status);
          // The body was never asked for: the connection cannot carry another request.
          expect(answer.connection).toBe('close');
          expectError({ status: answer.status, headers: {}, body: answer.body }, status);
        }
      }
      // A compressed body, refused with the key checked: also before the body is asked for.
      const encoded = await firstSignal('/v1/chat/completions', {
        authorization: `Bearer ${key.key}`,
        'content-encoding': 'gzip',
      });
      expect(encoded.status).toBe(415);
      expect(encoded.connection).toBe('close');
    });
  });

  it('every early refusal leaves its keep-alive connection in step: the next request is answered', async () => {
    // Refused before their bodies were read (route guard, key check, content-encoding): the
    // gateway reads past each unread body, so the same connection serves the next request.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { port, hostname } = new URL(gateway.url);
    const body = Buffer.alloc(32 * 1024, 0x20);
    const on = (
      method: string,
      path: string,
      headers: Record<string, string>,
      payload: Buffer | string,
    ) =>
      new Promise<Answer & { reused: boolean }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: hostname,
            port,
            method,
            path,
            agent,
            headers: { ...headers, 'content-length': String(Buffer.byteLength(payload)) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode!,
                headers: res.headers,
                body: Buffer.concat(chunks).toString('utf8'),
                reused: req.reusedSocket,
              }),
            );
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    const bearer = { authorization: `Bearer ${key.key}` };
    try {
      await nothingForwarded(async () => {
        const answers = [
          await on('POST', '/v1/v1/chat/completions', bearer, body),
          await on('POST', '/v1/./chat/completions', bearer, body),
          await on('GET', '/v1/mcp/server', bearer, body),
          await on('POST', '/v1/chat/completions', { 'content-type': 'audio/wav' }, body),
          await on(
            'POST',
            '/v1/chat/completions',
            { ...bearer, 'content-type': 'application/json', 'content-encoding': 'gzip' },
            body,
          ),
          await on(
            'POST',
            '/v1/chat/completions',
            { ...bearer, 'content-type': 'text/plain' },
            body,
          ),
        ];
        expect(answers.map((a) => a.status)).toEqual([404, 400, 404, 401, 415, 415]);
        for (const answer of answers) expectError(answer, answer.status);
        expect(answers.slice(1).every((a) => a.reused)).toBe(true);
      });
      const sent = await forwarded(async () => {
        const ok = await on(
          'POST',
          '/v1/chat/completions',
          { ...bearer, 'content-type': 'application/json' },
          JSON.stringify(chatBody()),
        );
        expect(ok.status).toBe(200);
        expect(ok.reused).toBe(true);
      });
      expect(sent).toHaveLength(1);
    } finally {
      agent.destroy();
    }
  });

  it('forwards on the normalised path: escapes decoded once, re-encoded canonically', async () => {
    const sent = await forwarded(async () => {
      const answer = await send('POST', '/v1/chat/%63ompletions?trace=1', {
        key: key.key,
        ...json(chatBody()),
      });
      expect(answer.status).toBe(200);
    });
    expect(sent.map((r) => r.url)).toEqual(['/v1/chat/completions?trace=1']);
  });

  it('a long model name in the path is checked like any other', async () => {
    const long = 'm'.repeat(300);
    await nothingForwarded(async () => {
      expect(
        expectError(await send('GET', `/v1/models/${long}`, { key: key.key }), 404).param,
      ).toBe('model');
      const deployment = await send('POST', `/openai/deployments/${long}/chat/completions`, {
        key: key.key,
        ...json(chatBody()),
      });
      expect(expectError(deployment, 403).message).toContain(long);
    });
  });

  it('checks a model named in the query too', async () => {
    await nothingForwarded(async () => {
      const answer = await send('POST', '/v1/chat/completions?model=not-subscribed', {
        key: key.key,
        ...json(chatBody()),
      });
      expect(expectError(answer, 403).message).toContain("'not-subscribed'");
    });
  });
});

describe('routes that name a model', () => {
  it('rerank: another model is 403, no model 400, nothing forwarded; its own model goes through', async () => {
    for (const path of ['/v1/rerank', '/v2/rerank']) {
      await nothingForwarded(async () => {
        const other = await send('POST', path, {
          key: key.key,
          ...json({ model: 'not-subscribed', query: 'q', documents: ['a'] }),
        });
        expect(expectError(other, 403).type).toBe('key_model_access_denied');
        const none = await send('POST', path, {
          key: key.key,
          ...json({ query: 'q', documents: ['a'] }),
        });
        expect(expectError(none, 400).param).toBe('model');
      });
      const sent = await forwarded(async () => {
        const own = await send('POST', path, {
          key: key.key,
          ...json({ model: 'fake-model', query: 'q', documents: ['a'] }),
        });
        expect(own.status).toBe(200);
      });
      expect(sent.map((r) => r.url)).toEqual([path]);
    }
  });

  it('a JSON route takes only a JSON body: a form or text body, which LiteLLM would read, is 415', async () => {
    await nothingForwarded(async () => {
      const form = await send('POST', '/v1/chat/completions', {
        key: key.key,
        type: 'application/x-www-form-urlencoded',
        body: 'model=not-subscribed&messages=x',
      });
      expectError(form, 415);
      const text = await send('POST', '/v1/embeddings', {
        key: key.key,
        type: 'text/plain',
        body: JSON.stringify({ model: 'not-subscribed', input: 'x' }),
      });
      expectError(text, 415);
    });
  });

  it('multipart audio: another model is 403 wherever the field stands; its own is forwarded byte for byte', async () => {
    for (const parts of [
      [
        { name: 'model', value: 'not-subscribed' },
        { name: 'file', value: audio, filename: 'a.wav' },
      ],
      [
        { name: 'file', value: audio, filename: 'a.wav' },
        { name: 'model', value: 'not-subscribed' },
      ],
    ]) {
      await nothingForwarded(async () => {
        const answer = await send('POST', '/v1/audio/transcriptions', {
          key: key.key,
          ...multipart(parts),
        });
        expect(expectError(answer, 403).message).toContain("'not-subscribed'");
      });
    }
    const form = multipart([
      { name: 'file', value: audio, filename: 'a.wav' },
      { name: 'model', value: 'fake-model' },
      { name: 'language', value: 'en' },
    ]);
    const sent = await forwarded(async () => {
      const answer = await send('POST', '/v1/audio/transcriptions', { key: key.key, ...form });
      expect(answer.status).toBe(200);
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe('/v1/audio/transcriptions');
    expect(sent[0]!.headers['content-type']).toBe(form.type);
    expect(sent[0]!.body.equals(form.body)).toBe(true);
    // Sent chunked, the form is read whole and forwarded as the bytes it was, with their length.
    const third = Math.ceil(form.body.length / 3);
    const chunked = await forwarded(async () => {
      const answer = await send('POST', '/v1/audio/transcriptions', {
        key: key.key,
        type: form.type,
        chunked: [0, 1, 2].map((i) => form.body.subarray(i * third, (i + 1) * third)),
      });
      expect(answer.status).toBe(200);
    });
    expect(chunked).toHaveLength(1);
    expect(chunked[0]!.body.equals(form.body)).toBe(true);
    expect(chunked[0]!.headers['content-length']).toBe(String(form.body.length));
    expect(chunked[0]!.headers).not.toHaveProperty('transfer-encoding');
  });

  it('multipart: two model fields, no model, a raw audio body or one over BODY_LIMIT are refused', async () => {
    await nothingForwarded(async () => {
      const twice = multipart([
        { name: 'model', value: 'fake-model' },
        { name: 'file', value: audio, filename: 'a.wav' },
        { name: 'model', value: 'not-subscribed' },
      ]);
      const dup = await send('POST', '/v1/audio/transcriptions', { key: key.key, ...twice });
      expect(expectError(dup, 400).param).toBe('model');

      const none = multipart([{ name: 'file', value: audio, filename: 'a.wav' }]);
      const missing = await send('POST', '/v1/images/edits', { key: key.key, ...none });
      expect(expectError(missing, 400).param).toBe('model');

      const raw = await send('POST', '/v1/audio/transcriptions', {
        key: key.key,
        type: 'audio/wav',
        body: audio,
      });
      expectError(raw, 415);

      // Chunked (no Content-Length): the gateway counts the bytes itself (BODY_LIMIT 64Ki).
      const big = multipart([
        { name: 'model', value: 'fake-model' },
        { name: 'file', value: Buffer.alloc(100 * 1024), filename: 'a.wav' },
      ]);
      const chunks = Array.from({ length: Math.ceil(big.body.length / 8192) }, (_, i) =>
        big.body.subarray(i * 8192, (i + 1) * 8192),
      );
      const tooLarge = await send('POST', '/v1/audio/transcriptions', {
        key: key.key,
        type: big.type,
        chunked: chunks,
      });
      expectError(tooLarge, 413);
    });
  });

  it('deployments and engines: the model in the path is checked, and the one in the body too', async () => {
    await nothingForwarded(async () => {
      for (const path of [
        '/openai/deployments/not-subscribed/chat/completions',
        '/engines/not-subscribed/embeddings',
        '/openai/deployments/team/not-subscribed/completions',
      ]) {
        const answer = await send('POST', path, { key: key.key, ...json(chatBody()) });
        expect(expectError(answer, 403).message, path).toContain('not-subscribed');
      }
      const bodyToo = await send('POST', '/openai/deployments/fake-model/chat/completions', {
        key: key.key,
        ...json(chatBody('not-subscribed')),
      });
      expect(expectError(bodyToo, 403).message).toContain("'not-subscribed'");
    });
    const sent = await forwarded(async () => {
      const answer = await send(
        'POST',
        '/openai/deployments/fake-model/chat/completions?api-version=2024-10-21',
        { key: key.key, ...json({ messages: [{ role: 'user', content: 'hi' }] }) },
      );
      expect(answer.status).toBe(200);
    });
    expect(sent.map((r) => r.url)).toEqual([
      '/openai/deployments/fake-model/chat/completions?api-version=2024-10-21',
    ]);
  });
});

describe('streamed usage on every chat and completions route', () => {
  it('asks for the usage of a deployments or engines stream too, strips it again, and counts it', async () => {
    const sse = (events: unknown[]) =>
      events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('') + 'data: [DONE]\n\n';
    upstream.respond = (request) => {
      const asked = (
        JSON.parse(request.body.toString('utf8')) as {
          stream_options?: { include_usage?: boolean };
        }
      ).stream_options?.include_usage;
      const chunk = { choices: [{ index: 0, delta: { content: 'ok' } }] };
      const usage = {
        choices: [],
        usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 },
      };
      return {
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: sse(asked === true ? [chunk, usage] : [chunk]),
      };
    };
    try {
      for (const path of [
        '/openai/deployments/fake-model/chat/completions',
        '/openai/deployments/fake-model/completions',
        '/engines/fake-model/chat/completions',
        '/engines/fake-model/completions',
      ]) {
        const team = `team-usage-${path.split('/')[1]}-${path.endsWith('/chat/completions') ? 'chat' : 'text'}`;
        const streamer = await bed.addKey({ team, models: ['fake-model'] });
        let answer: Answer | undefined;
        const sent = await forwarded(async () => {
          answer = await send('POST', path, {
            key: streamer.key,
            ...json({ stream: true, messages: [{ role: 'user', content: 'hi' }], prompt: 'hi' }),
          });
        });
        expect(answer!.status, path).toBe(200);
        expect(JSON.parse(sent[0]!.body.toString('utf8')), path).toMatchObject({
          stream: true,
          stream_options: { include_usage: true },
        });
        // The caller did not ask: the usage chunk is not theirs to see.
        expect(answer!.body, path).not.toContain('usage');
        expect(answer!.body, path).toContain('data: [DONE]');
        await expect
          .poll(async () => {
            const metric = await gateway.metrics.tokens.get();
            return metric.values
              .filter((v) => v.labels.team === team)
              .map((v) => [v.labels.kind, v.value])
              .sort();
          })
          .toEqual([
            ['completion', 5],
            ['prompt', 7],
          ]);
      }
    } finally {
      upstream.respond = () => undefined;
    }
  });
});

describe('routes that reach models without naming one', () => {
  const unnamed: [string, string, { type?: string; body?: string | Buffer }][] = [
    ['POST', '/v1/files', multipart([{ name: 'purpose', value: 'batch' }])],
    ['GET', '/v1/files', {}],
    ['GET', '/v1/files/file-1/content', {}],
    ['POST', '/v1/batches', json({ input_file_id: 'file-1', endpoint: '/v1/chat/completions' })],
    ['POST', '/v1/vector_stores', json({ name: 'docs' })],
    ['POST', '/v1/vector_stores/vs-1/search', json({ query: 'x' })],
    ['POST', '/v1/assistants', json({ model: 'fake-model' })],
    ['POST', '/v1/threads/t-1/runs', json({ assistant_id: 'asst-1' })],
    ['POST', '/v1/fine_tuning/jobs', json({ model: 'fake-model', training_file: 'file-1' })],
    ['POST', '/v1/realtime/client_secrets', json({})],
    ['POST', '/mcp', json({ jsonrpc: '2.0', id: 1, method: 'tools/list' })],
    ['GET', '/v1/responses/resp_1', {}],
  ];

  it.each(unnamed)(
    'refuses %s %s with 403 by default, and forwards nothing',
    async (method, path, body) => {
      await nothingForwarded(async () => {
        const answer = await send(method, path, { key: key.key, ...body });
        expect(expectError(answer, 403).type).toBe('permission_error');
      });
    },
  );

  it('serves a group its Team enabled, counted in the key limits; other groups stay refused; models still checked', async () => {
    const limited = await bed.updateKey(await bed.addKey({ keyLimits: { rpm: 2 } }), {
      enabledRoutes: ['files', 'mcp'],
    });
    const upload = multipart([
      { name: 'purpose', value: 'assistants' },
      { name: 'file', value: Buffer.from('hello'), filename: 'a.txt' },
    ]);
    const sent = await forwarded(async () => {
      const first = await send('POST', '/v1/files', { key: limited.key, ...upload });
      expect(first.status).toBe(200);
      expect(first.headers['x-ratelimit-remaining-requests']).toBe('1');
      const second = await send('POST', '/mcp', {
        key: limited.key,
        ...json({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(second.status).toBe(200);
      const third = await send('GET', '/v1/files', { key: limited.key });
      expect(expectError(third, 429).type).toBe('throttling_error');
      const vectorStores = await send('GET', '/v1/vector_stores', { key: limited.key });
      expect(expectError(vectorStores, 403).message).toContain('vectorStores');
    });

    expect(sent.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /v1/files', 'POST /mcp']);
    expect(sent[0]!.body.equals(upload.body)).toBe(true);
  });
  it("MCP's session headers cross both ways on the MCP routes of a Team that enabled them, nowhere else", async () => {
    const mcp = await bed.updateKey(await bed.addKey(), { enabledRoutes: ['mcp'] });
    const session = {
      'mcp-session-id': 'sess-1f3a',
      'mcp-protocol-version': '2025-06-18',
      'last-event-id': 'evt-41',
    };
    upstream.respond = () => ({
      status: 200,
      headers: { 'content-type': 'application/json', 'mcp-session-id': 'sess-1f3a' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }),
    });
    try {
      let onMcp: Answer | undefined;
      let onChat: Answer | undefined;
      const sent = await forwarded(async () => {
        onMcp = await send('POST', '/mcp', {
          key: mcp.key,
          headers: { ...session, accept: 'application/json, text/event-stream' },
          ...json({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        onChat = await send('POST', '/v1/chat/completions', {
          key: mcp.key,
          headers: session,
          ...json(chatBody()),
        });
      });
      expect(onMcp!.status).toBe(200);
      expect(onMcp!.headers['mcp-session-id']).toBe('sess-1f3a');
      expect(sent[0]!.headers).toMatchObject(session);
      // A model route is no MCP session: neither way.
      expect(onChat!.status).toBe(200);
      expect(onChat!.headers).not.toHaveProperty('mcp-session-id');
      for (const name of Object.keys(session)) expect(sent[1]!.headers).not.toHaveProperty(name);
    } finally {
      upstream.respond = () => undefined;
    }
  });

  it('an enabled group still checks every model its request names, wherever LiteLLM reads one', async () => {
    const enabled = await bed.updateKey(key, {
      enabledRoutes: ['assistants', 'files', 'realtime', 'vectorStores'],
    });
    await nothingForwarded(async () => {
      const cases: [string, string, { type?: string; body?: string | Buffer }][] = [
        ['POST', '/v1/assistants', json({ model: 'not-subscribed' })],
        ['POST', '/v1/realtime/client_secrets', json({ session: { model: 'not-subscribed' } })],
        [
          'POST',
          '/v1/vector_stores',
          json({ name: 'x', target_model_names: 'fake-model,not-subscribed' }),
        ],
        ['GET', '/v1/files?target_model_names=not-subscribed', {}],
        [
          'POST',
          '/v1/files',
          multipart([
            { name: 'purpose', value: 'batch' },
            { name: 'target_model_names', value: 'not-subscribed' },
            { name: 'file', value: Buffer.from('{}'), filename: 'a.jsonl' },
          ]),
        ],
      ];
      for (const [method, path, body] of cases) {
        const answer = await send(method, path, { key: enabled.key, ...body });
        expect(expectError(answer, 403).message, `${method} ${path}`).toContain("'not-subscribed'");
      }
      const header = await send('GET', '/v1/files', {
        key: enabled.key,
        headers: { 'x-litellm-model': 'not-subscribed' },
      });
      expect(expectError(header, 403).message).toContain("'not-subscribed'");
    });
  });
});

describe('batches', () => {
  const line = (model: string, url = '/v1/chat/completions', custom = model) =>
    JSON.stringify({ custom_id: custom, method: 'POST', url, body: { model, messages: [] } });
  const files: Record<string, { status: number; body: string }> = {
    'file-ok': {
      status: 200,
      body: `${line('fake-model', undefined, 'a')}\n${line('fake-model')}\n`,
    },
    'file-bad': {
      status: 200,
      body: [line('fake-model'), line('fake-model'), line('not-subscribed')].join('\r\n'),
    },
    'file-other-url': { status: 200, body: line('fake-model', '/v1/embeddings') },
    'file-not-json': { status: 200, body: `${line('fake-model')}\n{"custom_id":` },
    'file-gone': { status: 404, body: '{"error":{"message":"not found"}}' },
  };
  beforeAll(() => {
    upstream.respond = (request) => {
      const id = /^\/v1\/files\/([^/]+)\/content$/.exec(request.url)?.[1];
      const file = id === undefined ? undefined : files[id];
      return file && request.method === 'GET'
        ? { ...file, headers: { 'content-type': 'application/jsonl' } }
        : undefined;
    };
  });
  afterAll(() => {
    upstream.respond = () => undefined;
  });
  const create = (k: TestKey, inputFileId: string, endpoint = '/v1/chat/completions') =>
    send('POST', '/v1/batches', {
      key: k.key,
      ...json({ input_file_id: inputFileId, endpoint, completion_window: '24h' }),
    });

  it("enabled: a batch whose input file names another model is 403; only the file was read, with the caller's key", async () => {
    const enabled = await bed.updateKey(key, { enabledRoutes: ['batches'] });
    const sent = await forwarded(async () => {
      const answer = await create(enabled, 'file-bad');
      expect(expectError(answer, 403).message).toContain("'not-subscribed'");
    });
    expect(sent.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v1/files/file-bad/content']);
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${enabled.key}`);
  });

  it('enabled: a batch whose every line names a model of the key is created', async () => {
    const enabled = await bed.updateKey(key, { enabledRoutes: ['batches'] });
    const body = { input_file_id: 'file-ok', endpoint: '/v1/chat/completions' };
    const sent = await forwarded(async () => {
      const answer = await send('POST', '/v1/batches', { key: enabled.key, ...json(body) });
      expect(answer.status).toBe(200);
    });
    expect(sent.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /v1/files/file-ok/content',
      'POST /v1/batches',
    ]);
    expect(JSON.parse(sent[1]!.body.toString())).toEqual(body);
  });

  it('enabled: an input file that cannot be read or checked, or an endpoint that is no model route, is 400', async () => {
    const enabled = await bed.updateKey(key, { enabledRoutes: ['batches'] });
    const sent = await forwarded(async () => {
      for (const id of ['file-other-url', 'file-not-json', 'file-gone']) {
        expect(expectError(await create(enabled, id), 400).param, id).toBe('input_file_id');
      }
      expect(expectError(await create(enabled, 'file-ok', '/v1/files'), 400).param).toBe(
        'endpoint',
      );
    });
    expect(sent.every((r) => r.method === 'GET')).toBe(true);
  });
});

describe('a key that reaches no model', () => {
  it('gets its (empty) model list and nothing else, enabled groups included', async () => {
    const empty = await bed.updateKey(await bed.addKey({ models: [] }), {
      enabledRoutes: ['files', 'batches'],
    });
    const list = await send('GET', '/v1/models', { key: empty.key });
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body)).toEqual({ object: 'list', data: [] });
    await nothingForwarded(async () => {
      for (const [method, path, body] of [
        ['POST', '/v1/chat/completions', json(chatBody())],
        ['GET', '/v1/files', {}],
        ['POST', '/v1/batches', json({ input_file_id: 'file-ok', endpoint: '/v1/embeddings' })],
        ['POST', '/v1/moderations', json({ input: 'x' })],
      ] as const) {
        const answer = await send(method, path, { key: empty.key, ...body });
        expect(expectError(answer, 403).type).toBe('key_model_access_denied');
      }
    });
  });
});
