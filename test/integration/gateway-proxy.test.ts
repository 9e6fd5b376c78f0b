// The gateway in front of a fake OpenAI upstream, with its routing config in the shared test
// Redis: who gets through (subscribed model 200, other model 403, unknown / expired /
// suspended / out-of-budget keys 401 or 422, all OpenAI-shaped), what goes upstream (the
// caller's key, the body unchanged), what comes back (streams chunk by chunk, usage read and
// counted), a caller that goes away (the upstream request is aborted), and that no log line
// ever holds a key.
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { countTokens, echoReply } from '../fake-openai/server.ts';
import { errorOf } from './support/openai-error.ts';
import { chat, startGatewayBed, type GatewayBed } from './support/gateway-bed.ts';

let bed: GatewayBed;
let gateway: RunningGateway;

beforeAll(async () => {
  bed = await startGatewayBed(inject('redisUrl'));
  gateway = await bed.startGateway();
});
afterAll(async () => {
  await bed?.stop();
});

describe('who gets through', () => {
  it('forwards a subscribed model with the caller key and the body unchanged', async () => {
    const { key } = await bed.addKey();
    const before = bed.upstream.requests.length;
    const response = await chat(gateway, key, { temperature: 0.25, user: 'u1' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      choices: { message: { content: string } }[];
      usage: { total_tokens: number };
    };
    expect(body.choices[0]!.message.content).toBe(echoReply('hello there'));
    const sent = bed.upstream.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.authorization).toBe(`Bearer ${key}`);
    expect(sent[0]!.body).toEqual({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'hello there' }],
      temperature: 0.25,
      user: 'u1',
    });
    expect(Number(response.headers.get('x-llmtenancy-overhead-ms'))).toBeGreaterThan(0);
  });

  it('accepts the key in the api-key header and forwards it as a bearer token', async () => {
    const { key } = await bed.addKey();
    const before = bed.upstream.requests.length;
    const response = await fetch(`${gateway.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', input: 'one two three' }),
    });
    expect(response.status).toBe(200);
    expect(bed.upstream.requests[before]!.authorization).toBe(`Bearer ${key}`);
  });

  it('refuses a model the key has no subscription for with 403, naming only that model', async () => {
    const { key } = await bed.addKey({ models: ['fake-model', 'secret-model-b'] });
    const before = bed.upstream.requests.length;
    const response = await chat(gateway, key, { model: 'other-model' });
    expect(response.status).toBe(403);
    const error = await errorOf(response);
    expect(error.type).toBe('key_model_access_denied');
    expect(error.param).toBe('model');
    expect(error.message).toContain("'other-model'");
    expect(error.message).not.toContain('secret-model-b');
    expect(error.message).not.toContain('fake-model');
    expect(bed.upstream.requests.length).toBe(before);
  });

  it('refuses a key with no models at all', async () => {
    const { key } = await bed.addKey({ models: [] });
    const response = await chat(gateway, key);
    expect(response.status).toBe(403);
  });

  it('refuses a missing, unknown, expired, suspended or out-of-budget key as LiteLLM does', async () => {
    const noKey = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"fake-model","messages":[]}',
    });
    expect(noKey.status).toBe(401);
    expect((await errorOf(noKey)).type).toBe('auth_error');

    const unknown = await chat(gateway, 'sk-not-a-key-anyone-has');
    expect(unknown.status).toBe(401);
    expect((await errorOf(unknown)).type).toBe('token_not_found_in_db');

    const expired = await bed.addKey({ expiresAt: new Date(Date.now() - 1000).toISOString() });
    const expiredResponse = await chat(gateway, expired.key);
    expect(expiredResponse.status).toBe(401);
    expect((await errorOf(expiredResponse)).type).toBe('expired_key');

    const suspended = await bed.addKey({ suspended: true });
    const suspendedResponse = await chat(gateway, suspended.key);
    expect(suspendedResponse.status).toBe(401);
    expect((await errorOf(suspendedResponse)).message).toContain('blocked');

    const broke = await bed.addKey();
    await bed.updateKey(broke, {
      budgetExceeded: { scope: 'team', id: 'team-a', spend: '10.5', maxBudget: '10' },
    });
    await expect.poll(async () => (await chat(gateway, broke.key)).status).toBe(422);
    const budget = await errorOf(await chat(gateway, broke.key));
    expect(budget.type).toBe('budget_exceeded');
    expect(budget.message).toBe(
      'Budget has been exceeded! Team=team-a Current cost: 10.5, Max budget: 10',
    );
  });

  it('answers bad requests in OpenAI shape: no model, bad JSON, too large, unknown route', async () => {
    const { key } = await bed.addKey();
    const noModel = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"messages":[]}',
    });
    expect(noModel.status).toBe(400);
    expect((await errorOf(noModel)).param).toBe('model');

    const badJson = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"model":',
    });
    expect(badJson.status).toBe(400);
    expect((await errorOf(badJson)).type).toBe('invalid_request_error');

    const small = await bed.startGateway({ BODY_LIMIT: '2Ki' });
    const tooLarge = await chat(small, key, {
      messages: [{ role: 'user', content: 'x'.repeat(4096) }],
    });
    expect(tooLarge.status).toBe(413);
    await errorOf(tooLarge);

    const nowhere = await fetch(`${gateway.url}/nowhere`);
    expect(nowhere.status).toBe(404);
    await errorOf(nowhere);
  });
});

describe('other routes and bodies', () => {
  it('streams a non-JSON body upstream unchanged, and refuses one declared over BODY_LIMIT', async () => {
    // A body that is neither JSON nor a form (a raw file upload to the files API, enabled for
    // the key's team) streams through as it comes.
    const { key } = await bed.updateKey(await bed.addKey(), { enabledRoutes: ['files'] });
    const type = 'application/octet-stream';
    const received: { path: string; type: string; bytes: number }[] = [];
    const echo = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        received.push({ path: req.url!, type: req.headers['content-type']!, bytes });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"text":"ok"}');
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = echo.address() as AddressInfo;
      const upload = await bed.startGateway({
        LITELLM_URL: `http://127.0.0.1:${port}`,
        BODY_LIMIT: '64Ki',
      });
      const send = (size: number) =>
        fetch(`${upload.url}/v1/files?x=1`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': type },
          body: new Uint8Array(size),
        });
      const ok = await send(10_000);
      expect(ok.status).toBe(200);
      expect(received).toEqual([{ path: '/v1/files?x=1', type, bytes: 10_000 }]);
      const tooLarge = await send(100_000);
      expect(tooLarge.status).toBe(413);
      await errorOf(tooLarge);
      expect(received).toHaveLength(1);
    } finally {
      echo.close();
    }
  });
});

describe('models', () => {
  it("lists only the key's models", async () => {
    const { key } = await bed.addKey({ models: ['fake-model', 'granite'] });
    const response = await fetch(`${gateway.url}/v1/models`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { object: string; data: { id: string }[] };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual(['fake-model', 'granite']);
    expect(body.data[0]).toMatchObject({ object: 'model', owned_by: 'openai', mode: 'chat' });

    const one = await fetch(`${gateway.url}/v1/models/granite`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(one.status).toBe(200);
    const other = await fetch(`${gateway.url}/v1/models/other`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(other.status).toBe(404);
  });
});

/** Reads an SSE response event by event. */
async function readEvents(response: Response): Promise<{ events: string[]; reads: number }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let reads = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    reads++;
    text += decoder.decode(value, { stream: true });
  }
  return { events: text.split('\n\n').filter(Boolean), reads };
}

describe('streaming', () => {
  it('passes the chunks through and strips the usage chunk it asked for itself', async () => {
    const { key } = await bed.addKey();
    const before = bed.upstream.requests.length;
    const response = await chat(gateway, key, { stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const { events } = await readEvents(response);
    // The upstream was asked for usage…
    expect(bed.upstream.requests[before]!.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    // …and the caller, who did not ask, gets the stream without it.
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)));
    expect(chunks.every((c: { usage?: unknown }) => c.usage === undefined)).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe(echoReply('hello there'));
  });

  it('passes usage through when the caller asked, and counts the tokens', async () => {
    const { key, policy } = await bed.addKey({ team: 'team-stream' });
    const response = await chat(gateway, key, {
      stream: true,
      stream_options: { include_usage: true },
    });
    const { events } = await readEvents(response);
    const last = JSON.parse(events.at(-2)!.slice('data: '.length)) as {
      choices: unknown[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    expect(last.choices).toEqual([]);
    const prompt = countTokens('hello there');
    const completion = countTokens(echoReply('hello there'));
    expect(last.usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: completion });
    await expect
      .poll(async () => tokensMetric(gateway, policy.team))
      .toEqual({ prompt, completion });
  });

  it('aborts the upstream request when the caller goes away', async () => {
    const { key } = await bed.addKey();
    // A slow upstream: headers, then one chunk, then nothing until aborted.
    let upstreamClosed = false;
    let upstreamStarted = false;
    const slowUpstream = createServer((req, res) => {
      upstreamStarted = true;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n');
      res.once('close', () => (upstreamClosed = true));
    });
    await new Promise<void>((resolve) => slowUpstream.listen(0, '127.0.0.1', resolve));
    const { port } = slowUpstream.address() as AddressInfo;
    const slow = await bed.startGateway({ LITELLM_URL: `http://127.0.0.1:${port}` });
    const url = new URL(`${slow.url}/v1/chat/completions`);
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
      req.end('{"model":"fake-model","messages":[],"stream":true}');
    });
    expect(upstreamStarted).toBe(true);
    await expect.poll(() => upstreamClosed, { timeout: 5_000 }).toBe(true);
    slowUpstream.close();
  });
});

describe('upstream failures', () => {
  it('answers 502 when LiteLLM is unreachable, and frees the parallel slot', async () => {
    const { key } = await bed.addKey({ keyLimits: { maxParallelRequests: 1 } });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const down = await bed.startGateway({ LITELLM_URL: `http://127.0.0.1:${port}` });
    for (let i = 0; i < 2; i++) {
      const response = await chat(down, key);
      expect(response.status).toBe(502);
      const error = await errorOf(response);
      expect(error.type).toBe('upstream_error');
      expect(error.message).toContain('connection refused');
    }
  });

  it('answers 504 when LiteLLM sends no headers within UPSTREAM_HEADERS_TIMEOUT', async () => {
    const { key } = await bed.addKey();
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const slow = await bed.startGateway({
        LITELLM_URL: `http://127.0.0.1:${port}`,
        UPSTREAM_HEADERS_TIMEOUT: '1s',
      });
      const response = await chat(slow, key);
      expect(response.status).toBe(504);
      expect((await errorOf(response)).type).toBe('timeout');
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});

describe('shutdown', () => {
  it('lets a running stream finish while refusing new requests and failing readiness', async () => {
    const { key } = await bed.addKey();
    let release = () => {};
    const held = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"index":0,"delta":{"content":"one"}}]}\n\n');
      release = () => res.end('data: [DONE]\n\n');
    });
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const { port } = held.address() as AddressInfo;
    const draining = await bed.startGateway({
      LITELLM_URL: `http://127.0.0.1:${port}`,
      SHUTDOWN_GRACE: '10s',
    });
    try {
      const response = await chat(draining, key, { stream: true });
      const reader = response.body!.getReader();
      await reader.read(); // the first chunk is through
      const closed = draining.close();
      const readyz = await fetch(`${draining.managementUrl}/readyz`);
      expect(readyz.status).toBe(503);
      expect(((await readyz.json()) as { failing: string[] }).failing).toContain('not-stopping');
      release();
      let rest = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += new TextDecoder().decode(value);
      }
      expect(rest).toContain('[DONE]');
      await closed;
    } finally {
      held.close();
    }
  });
});

describe('logs', () => {
  it('never contains a key, in any line of any gateway', async () => {
    const { key } = await bed.addKey();
    await chat(gateway, key);
    await chat(gateway, key, { model: 'not-allowed' });
    await chat(gateway, `${key}x`);
    await fetch(`${gateway.url}/v1/models?key=${key}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    // The access line of the last request is written when it closes.
    await expect.poll(() => bed.logs.some((l) => l.includes('/v1/models'))).toBe(true);
    expect(bed.logs.length).toBeGreaterThan(4);
    const leaked = bed.logs.filter((line) => line.includes(key) || line.includes(key.slice(3)));
    expect(leaked).toEqual([]);
  });
});

async function tokensMetric(gw: RunningGateway, team: string) {
  const metric = await gw.metrics.tokens.get();
  const value = (kind: string) =>
    metric.values.find((v) => v.labels.team === team && v.labels.kind === kind)?.value ?? 0;
  return { prompt: value('prompt'), completion: value('completion') };
}
