// Rate limits through two gateway instances sharing one Redis, under 50 concurrent callers:
// rpm and parallel limits admit exactly their number (no more, no fewer), per key, per
// subscription (its uid; team + model for older records) and per team; tpm reserves each
// request's estimate at admission (so exactly the reservations that fit get in) and settles
// it to the exact counts the answers report, or keeps it when the caller left first; refusals are 429 throttling_error with retry-after and x-ratelimit-*
// headers, as LiteLLM's.
//
// Windows are fixed 60-second windows on Redis's clock; a test that needs one whole window
// waits when fewer than 5 s of the current one remain.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LIMIT_SUFFIX, scopeBaseKey, windowOf } from '../../gateway/src/limits/limit-keys.ts';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { countTokens, echoReply } from '../fake-openai/server.ts';
import { chat, startGatewayBed, type GatewayBed } from './support/gateway-bed.ts';

const CALLERS = 50;

let bed: GatewayBed;
let a: RunningGateway;
let b: RunningGateway;
let redis: Redis;

beforeAll(async () => {
  bed = await startGatewayBed(inject('redisUrl'));
  redis = new Redis(inject('redisUrl'));
  a = await bed.startGateway();
  b = await bed.startGateway();
});
afterAll(async () => {
  await bed?.stop();
  redis?.disconnect();
});

/** Redis's time in ms. */
async function redisNow(): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** Waits for the next window when the current one ends within 5 s. */
async function awayFromWindowEdge(): Promise<void> {
  const now = await redisNow();
  const left = 60_000 - (now % 60_000);
  if (left < 5_000) await new Promise((r) => setTimeout(r, left + 50));
}

/** `count` chat requests at once, alternating between the two gateways. */
async function burst(key: string, count = CALLERS, body: Record<string, unknown> = {}) {
  const responses = await Promise.all(
    Array.from({ length: count }, (_, i) => chat(i % 2 === 0 ? a : b, key, body)),
  );
  await Promise.all(responses.map((r) => r.arrayBuffer()));
  return responses;
}

const statuses = (responses: Response[]) => {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
};

describe('requests per minute', () => {
  it('admits exactly rpm of 50 concurrent callers across two instances, with LiteLLM-style refusals', async () => {
    await awayFromWindowEdge();
    const { key } = await bed.addKey({ keyLimits: { rpm: 20 } });
    const responses = await burst(key);
    expect(statuses(responses)).toEqual({ 200: 20, 429: 30 });

    // Each admitted request saw a different count: remaining 19, 18, … 0.
    const remaining = responses
      .filter((r) => r.status === 200)
      .map((r) => Number(r.headers.get('x-ratelimit-remaining-requests')))
      .sort((x, y) => x - y);
    expect(remaining).toEqual(Array.from({ length: 20 }, (_, i) => i));

    const refused = responses.find((r) => r.status === 429)!;
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('20');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(refused.headers.get('rate_limit_type')).toBe('requests');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const again = await chat(a, key);
    const { error } = (await again.json()) as { error: { type: string; message: string } };
    expect(again.status).toBe(429);
    expect(error.type).toBe('throttling_error');
    expect(error.message).toContain('Rate limit exceeded for this key');
    expect(error.message).not.toContain(key);
  });

  it('shares a team limit between the keys of the team', async () => {
    await awayFromWindowEdge();
    const team = `team-shared-${Date.now()}`;
    const one = await bed.addKey({ team, teamLimits: { rpm: 12 } });
    const two = await bed.addKey({ team, teamLimits: { rpm: 12 } });
    const responses = (await Promise.all([burst(one.key, 25), burst(two.key, 25)])).flat();
    expect(statuses(responses)).toEqual({ 200: 12, 429: 38 });
    const refused = responses.find((r) => r.status === 429)!;
    expect((await chat(a, one.key)).headers.get('rate_limit_type')).toBe('requests');
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('12');
  });

  it("limits one subscription (team + model) without touching the team's other models", async () => {
    await awayFromWindowEdge();
    const { key } = await bed.addKey({
      models: ['fake-model', 'granite'],
      subscriptionLimits: { 'fake-model': { rpm: 7 } },
    });
    const limited = await burst(key, CALLERS);
    expect(statuses(limited)).toEqual({ 200: 7, 429: 43 });
    const other = await burst(key, 10, { model: 'granite' });
    expect(statuses(other)).toEqual({ 200: 10 });
  });

  it('gives two namespaces of one team, each with its own subscription to a model, a counter each', async () => {
    await awayFromWindowEdge();
    const team = `team-two-ns-${Date.now()}`;
    // Keys in two namespaces of one team; each namespace's subscription to fake-model allows 6.
    const inA = await bed.addKey({
      team,
      subscriptionLimits: { 'fake-model': { rpm: 6, uid: `sub-a-${team}` } },
    });
    const inB = await bed.addKey({
      team,
      subscriptionLimits: { 'fake-model': { rpm: 6, uid: `sub-b-${team}` } },
    });
    const [a, b] = await Promise.all([burst(inA.key, 15), burst(inB.key, 15)]);
    expect(statuses(a)).toEqual({ 200: 6, 429: 9 });
    expect(statuses(b)).toEqual({ 200: 6, 429: 9 });
    expect(a.find((r) => r.status === 429)!.headers.get('x-ratelimit-limit-requests')).toBe('6');
  });

  it('counts records without a subscription uid (an older operator wrote them) per team and model', async () => {
    await awayFromWindowEdge();
    const team = `team-legacy-${Date.now()}`;
    const one = await bed.addKey({ team, subscriptionLimits: { 'fake-model': { rpm: 6 } } });
    const two = await bed.addKey({ team, subscriptionLimits: { 'fake-model': { rpm: 6 } } });
    const responses = (await Promise.all([burst(one.key, 10), burst(two.key, 10)])).flat();
    expect(statuses(responses)).toEqual({ 200: 6, 429: 14 });
  });
});

describe('parallel requests', () => {
  let upstream: Server;
  let held: (() => void)[] = [];
  let gated: [RunningGateway, RunningGateway];

  beforeAll(async () => {
    // An upstream that answers only when the test releases it.
    upstream = createServer((req, res) => {
      req.resume();
      held.push(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          '{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}',
        );
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gated = [
      await bed.startGateway({ LITELLM_URL: url }),
      await bed.startGateway({ LITELLM_URL: url }),
    ];
  });
  afterAll(() => {
    for (const release of held) release();
    upstream?.close();
  });

  it('lets exactly maxParallelRequests of 50 concurrent callers run, and frees the slots after', async () => {
    const { key } = await bed.addKey({ keyLimits: { maxParallelRequests: 5 } });
    const started = Array.from({ length: CALLERS }, (_, i) => chat(gated[i % 2]!, key));
    // The refusals come back at once; the admitted ones wait upstream.
    await expect.poll(() => held.length).toBe(5);
    const first = await Promise.race(started);
    expect(first.status).toBe(429);
    expect(first.headers.get('rate_limit_type')).toBe('max_parallel_requests');
    // Nothing more gets in while the five run.
    await new Promise((r) => setTimeout(r, 200));
    expect(held.length).toBe(5);
    const release = held;
    held = [];
    for (const r of release) r();
    expect(statuses(await Promise.all(started))).toEqual({ 200: 5, 429: 45 });

    // Slots are back: five more run at once.
    const next = Array.from({ length: 10 }, (_, i) => chat(gated[i % 2]!, key));
    await expect.poll(() => held.length).toBe(5);
    for (const r of held) r();
    held = [];
    expect(statuses(await Promise.all(next))).toEqual({ 200: 5, 429: 5 });
  });

  it('frees the slot of a caller that went away', async () => {
    const { key } = await bed.addKey({ keyLimits: { maxParallelRequests: 1 } });
    const leaving = new AbortController();
    const gone = fetch(`${gated[1].url}/v1/chat/completions`, {
      method: 'POST',
      signal: leaving.signal,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"model":"fake-model","messages":[]}',
    }).catch(() => undefined);
    await expect.poll(() => held.length).toBe(1);
    // The one slot is taken.
    expect((await chat(gated[0], key)).status).toBe(429);
    leaving.abort();
    await gone;
    held = [];
    // Its slot is free again for the next caller, on the other instance.
    await expect
      .poll(async () => {
        const next = chat(gated[0], key);
        await new Promise((r) => setTimeout(r, 50));
        for (const release of held.splice(0)) release();
        return (await next).status;
      })
      .toBe(200);
  });
});

describe('tokens per minute', () => {
  /** The reservation of `chat()`'s body with max_tokens 100: 25 characters of text (7) + 100. */
  const RESERVED = 7 + 100;
  /** What the held upstream reports per chat answer. */
  const REAL = 6;
  const usageOf = (total: number) => ({
    prompt_tokens: total - 1,
    completion_tokens: 1,
    total_tokens: total,
  });

  let upstream: Server;
  let held: (() => void)[] = [];
  let heldGateways: [RunningGateway, RunningGateway];
  const responsesUsage = { input_tokens: 11, output_tokens: 4, total_tokens: 15 };
  const responsesStreamUsage = { input_tokens: 5, output_tokens: 7, total_tokens: 12 };

  beforeAll(async () => {
    // Chat answers wait until the test releases them (a stream sends its first chunk at once);
    // the Responses API answers at once, as JSON or as its event stream.
    upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { stream?: boolean };
        if (req.url?.startsWith('/v1/responses')) {
          const response = (status: string, usage: unknown) => ({
            id: 'resp_1',
            object: 'response',
            status,
            output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi' }] }],
            usage,
          });
          if (!body.stream) {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(response('completed', responsesUsage)));
            return;
          }
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const send = (type: string, data: object) =>
            res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
          send('response.created', { response: response('in_progress', null) });
          send('response.output_text.delta', { delta: 'hi' });
          send('response.completed', { response: response('completed', responsesStreamUsage) });
          res.end();
          return;
        }
        if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n');
          held.push(() => {
            res.end(
              `data: ${JSON.stringify({ choices: [], usage: usageOf(REAL) })}\n\ndata: [DONE]\n\n`,
            );
          });
          return;
        }
        held.push(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ choices: [], usage: usageOf(REAL) }));
        });
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    heldGateways = [
      await bed.startGateway({ LITELLM_URL: url }),
      await bed.startGateway({ LITELLM_URL: url }),
    ];
  });
  afterAll(() => {
    for (const release of held) release();
    upstream?.close();
  });

  const tokensCounter = (policy: { team: string; keyHash: string }, window: number) =>
    `${scopeBaseKey(bed.prefix, policy.team, 'key', policy.keyHash)}${LIMIT_SUFFIX.tokens}${window}`;

  it('reserves at admission: of 50 concurrent callers exactly the reservations that fit tpm run, and the window settles to their real usage', async () => {
    await awayFromWindowEdge();
    const { key, policy } = await bed.addKey({ keyLimits: { tpm: 1000 } });
    const window = windowOf(await redisNow());
    let answered = 0;
    const started = Array.from({ length: CALLERS }, (_, i) =>
      chat(heldGateways[i % 2]!, key, { max_tokens: 100 }).then((r) => {
        answered++;
        return r;
      }),
    );
    // None has answered, so none has settled: what is admitted is what the reservations allow,
    // and every other caller is refused (waited for, so none arrives after a settle).
    const fit = Math.floor(1000 / RESERVED); // 9
    await expect.poll(() => answered).toBe(CALLERS - fit);
    expect(held.length).toBe(fit);
    const refusedOne = await Promise.race(started);
    expect(refusedOne.status).toBe(429);
    expect(refusedOne.headers.get('rate_limit_type')).toBe('tokens');
    expect(Number(await redis.get(tokensCounter(policy, window)))).toBe(fit * RESERVED);
    const release = held;
    held = [];
    for (const r of release) r();
    const responses = await Promise.all(started);
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    expect(statuses(responses)).toEqual({ 200: fit, 429: CALLERS - fit });
    // Each reservation is replaced by the usage its answer reported.
    await expect
      .poll(async () => Number(await redis.get(tokensCounter(policy, window))))
      .toBe(fit * REAL);
  });

  it('charges the reservation of a caller who leaves a stream before its usage arrives', async () => {
    await awayFromWindowEdge();
    // maxParallelRequests too: its slot is freed by the same script call that settles tokens.
    const { key, policy } = await bed.addKey({ keyLimits: { tpm: 1000, maxParallelRequests: 5 } });
    const window = windowOf(await redisNow());
    const leaving = new AbortController();
    const response = await chat(
      heldGateways[0],
      key,
      { stream: true, max_tokens: 100 },
      {},
      leaving.signal,
    );
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    await reader.read(); // the first chunk: the answer is running, its usage not yet sent
    leaving.abort();
    await reader.closed.catch(() => undefined);
    const inflight = `${scopeBaseKey(bed.prefix, policy.team, 'key', policy.keyHash)}${LIMIT_SUFFIX.inflight}`;
    await expect.poll(() => redis.zcard(inflight)).toBe(0); // settled
    expect(Number(await redis.get(tokensCounter(policy, window)))).toBe(RESERVED);
    for (const r of held.splice(0)) r();
  });

  it('reserves TPM_RESERVE_DEFAULT_OUTPUT_TOKENS for a request without max_tokens', async () => {
    await awayFromWindowEdge();
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const gateway = await bed.startGateway({
      LITELLM_URL: url,
      TPM_RESERVE_DEFAULT_OUTPUT_TOKENS: '10',
    });
    const { key, policy } = await bed.addKey({ keyLimits: { tpm: 1000 } });
    const window = windowOf(await redisNow());
    const running = chat(gateway, key);
    await expect.poll(() => held.length).toBe(1);
    expect(Number(await redis.get(tokensCounter(policy, window)))).toBe(7 + 10);
    for (const r of held.splice(0)) r();
    await (await running).arrayBuffer();
  });

  it('charges nothing for an error answer delivered in full (LiteLLM unreachable: 502)', async () => {
    await awayFromWindowEdge();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve)); // nothing listens there now
    const unreachable = await bed.startGateway({ LITELLM_URL: url });
    const { key, policy } = await bed.addKey({ keyLimits: { tpm: 1000, maxParallelRequests: 5 } });
    const window = windowOf(await redisNow());
    const response = await chat(unreachable, key, { max_tokens: 100 });
    expect(response.status).toBe(502);
    await response.arrayBuffer();
    const inflight = `${scopeBaseKey(bed.prefix, policy.team, 'key', policy.keyHash)}${LIMIT_SUFFIX.inflight}`;
    await expect.poll(() => redis.zcard(inflight)).toBe(0); // settled
    // Reserved at admission, given back in full.
    expect(await redis.get(tokensCounter(policy, window))).toBe('0');
  });

  it("counts the Responses API's usage, from its JSON answer and from its event stream", async () => {
    await awayFromWindowEdge();
    const { key, policy } = await bed.addKey({ keyLimits: { tpm: 100_000 } });
    const window = windowOf(await redisNow());
    const responses = (stream: boolean) =>
      fetch(`${heldGateways[1].url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'fake-model',
          input: 'hello there',
          max_output_tokens: 50,
          stream,
        }),
      });
    const json = await responses(false);
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ usage: responsesUsage });
    await expect
      .poll(async () => Number(await redis.get(tokensCounter(policy, window))))
      .toBe(responsesUsage.total_tokens);
    const stream = await responses(true);
    expect(await stream.text()).toContain('response.completed');
    await expect
      .poll(async () => Number(await redis.get(tokensCounter(policy, window))))
      .toBe(responsesUsage.total_tokens + responsesStreamUsage.total_tokens);
  });

  it('settles every answer of 50 concurrent callers, JSON and streams, to the exact tokens they used', async () => {
    await awayFromWindowEdge();
    const perRequest = countTokens('hello there') + countTokens(echoReply('hello there'));
    // Each reserves 7 prompt tokens and 1 output token: all 50 fit at once.
    const { key, policy } = await bed.addKey({ keyLimits: { tpm: CALLERS * (7 + 1) } });
    const window = windowOf(await redisNow());
    const responses = await Promise.all(
      Array.from({ length: CALLERS }, (_, i) =>
        chat(i % 2 === 0 ? a : b, key, { max_tokens: 1, stream: i % 4 < 2 }),
      ),
    );
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    expect(statuses(responses)).toEqual({ 200: CALLERS });
    await expect
      .poll(async () => Number(await redis.get(tokensCounter(policy, window))))
      .toBe(CALLERS * perRequest);
  });
});
