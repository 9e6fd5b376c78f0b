// The gateway's request boundary, headers and bodies (issue 11, points 1, 3 and 5), against
// the real gateway in front of a recording upstream: only the checked key reaches LiteLLM, in
// Authorization and nowhere else; a request's key is checked before its body is read, and
// its body is limited in time and bytes; X-Forwarded-* are the gateway's, believed from
// trusted proxies only; answers lose every header naming the platform's insides.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { errorOf } from './support/openai-error.ts';
import { chat, startGatewayBed, type GatewayBed, type TestKey } from './support/gateway-bed.ts';
import {
  startRecordingUpstream,
  type RecordedRequest,
  type RecordingUpstream,
} from './support/recording-upstream.ts';

let bed: GatewayBed;
let upstream: RecordingUpstream;
let gateway: RunningGateway;
let caller: TestKey;

beforeAll(async () => {
  bed = await startGatewayBed(inject('redisUrl'));
  upstream = await startRecordingUpstream();
  gateway = await bed.startGateway({ LITELLM_URL: upstream.url });
  caller = await bed.addKey();
});
afterAll(async () => {
  await bed?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.answer({}));

/** The requests the upstream received since `before`. */
function sentSince(before: number): RecordedRequest[] {
  return upstream.requests.slice(before);
}

/** The requests the upstream received for `url`: one a cut-off request may still add to. */
function sentTo(url: string): RecordedRequest[] {
  return upstream.requests.filter((r) => r.url === url);
}

/** A chat request that does not follow redirects. */
function chatNoFollow(target: RunningGateway, headers: Record<string, string> = {}) {
  return fetch(`${target.url}/v1/chat/completions`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      authorization: `Bearer ${caller.key}`,
      'content-type': 'application/json',
      ...headers,
    },
    body: JSON.stringify({ model: 'fake-model', messages: [] }),
  });
}

/** Headers undici adds on its own to every request it sends. */
const TRANSPORT = new Set(['host', 'connection', 'content-length', 'transfer-encoding']);

/** A raw request: `body` written at once, the connection left open when `end` is false. */
function rawRequest(
  url: string,
  options: { method?: string; headers: Record<string, string | number>; body?: Buffer | string },
  end = true,
): Promise<{ response: IncomingMessage; text: Promise<string>; destroy: () => void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'POST', headers: options.headers });
    req.once('response', (response) => {
      const text = new Promise<string>((done) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.once('end', () => done(body));
        response.once('error', () => done(body));
        response.once('close', () => done(body));
      });
      resolve({ response, text, destroy: () => req.destroy() });
    });
    req.once('error', reject);
    if (options.body !== undefined) req.write(options.body);
    if (end) req.end();
  });
}

describe('only the checked key reaches LiteLLM', () => {
  it('forwards allowlisted headers only, and the key only as Authorization: Bearer', async () => {
    const before = upstream.requests.length;
    const response = await chat(
      gateway,
      caller.key,
      {},
      {
        'api-key': caller.key,
        'x-api-key': caller.key,
        'user-agent': 'OpenAI/Python 1.50.0',
        'openai-beta': 'assistants=v2',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        cookie: 'token=litellm-ui-session',
        'openai-organization': 'org-platform',
        'x-litellm-tags': 'premium-deployment',
        'x-litellm-end-user-id': 'someone-else',
        'x-litellm-num-retries': '50',
        'x-stainless-retry-count': '0',
        forwarded: 'for=198.51.100.7',
        'x-real-ip': '198.51.100.7',
      },
    );
    expect(response.status).toBe(200);
    const [sent] = sentSince(before);
    expect(sent).toBeDefined();
    const names = Object.keys(sent!.headers).filter((name) => !TRANSPORT.has(name));
    expect(names.sort()).toEqual([
      'accept',
      'authorization',
      'content-type',
      'openai-beta',
      'traceparent',
      'user-agent',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
    ]);
    expect(sent!.headers.authorization).toBe(`Bearer ${caller.key}`);
    // The key appears once in everything sent upstream.
    const headerText = JSON.stringify(sent!.headers);
    expect(headerText.split(caller.key)).toHaveLength(2);
  });

  it('refuses two different keys with 400 and forwards nothing, whichever header holds the other', async () => {
    const other = await bed.addKey({ team: 'team-billed' });
    for (const header of [
      'x-litellm-api-key',
      'api-key',
      'x-api-key',
      'x-goog-api-key',
      'Ocp-Apim-Subscription-Key',
    ]) {
      const before = upstream.requests.length;
      const response = await chat(gateway, caller.key, {}, { [header]: other.key });
      expect(response.status, header).toBe(400);
      const error = await errorOf(response);
      expect(error.type).toBe('invalid_request_error');
      expect(error.message).toContain(header.toLowerCase());
      expect(error.message).not.toContain(other.key);
      expect(error.message).not.toContain(caller.key);
      expect(sentSince(before), header).toEqual([]);
    }
  });

  it("reads and strips LiteLLM's custom key header (LITELLM_KEY_HEADER)", async () => {
    const custom = await bed.startGateway({
      LITELLM_URL: upstream.url,
      LITELLM_KEY_HEADER: 'X-Corp-LLM-Key',
    });
    const other = await bed.addKey({ team: 'team-billed' });
    let before = upstream.requests.length;
    const conflicting = await chat(custom, caller.key, {}, { 'x-corp-llm-key': other.key });
    expect(conflicting.status).toBe(400);
    expect((await errorOf(conflicting)).message).toContain('x-corp-llm-key');
    expect(sentSince(before)).toEqual([]);

    before = upstream.requests.length;
    const viaCustom = await fetch(`${custom.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-corp-llm-key': `Bearer ${caller.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages: [] }),
    });
    expect(viaCustom.status).toBe(200);
    const [sent] = sentSince(before);
    expect(sent!.headers.authorization).toBe(`Bearer ${caller.key}`);
    expect(sent!.headers).not.toHaveProperty('x-corp-llm-key');
  });

  it('refuses a lone Authorization that is not Bearer with 401, forwarding nothing', async () => {
    const before = upstream.requests.length;
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Basic ${caller.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages: [] }),
    });
    expect(response.status).toBe(401);
    expect((await errorOf(response)).type).toBe('auth_error');
    expect(sentSince(before)).toEqual([]);
  });
});

describe('the key is checked before the body is read', () => {
  it('answers a 20 MiB body with no key, or an unknown key, 401 and not 413', async () => {
    const before = upstream.requests.length;
    const body = new Uint8Array(20 * 1024 * 1024);
    for (const headers of [
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json', authorization: 'Bearer sk-nobody-has-this' },
      { 'content-type': 'audio/wav' },
    ]) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body,
      });
      expect(response.status, JSON.stringify(headers)).toBe(401);
      await errorOf(response);
    }
    expect(sentSince(before)).toEqual([]);
  });

  it('refuses a request without a key while its body is still on the way', async () => {
    // Only the first KiB of a declared MiB is sent: the answer cannot wait for the rest.
    const { response, text, destroy } = await rawRequest(
      `${gateway.url}/v1/chat/completions`,
      {
        headers: { 'content-type': 'application/json', 'content-length': 1024 * 1024 },
        body: Buffer.alloc(1024, 0x20),
      },
      false,
    );
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(await text).error.type).toBe('auth_error');
    destroy();
  });
});

describe('Expect: 100-continue', () => {
  /** Sends headers only; resolves with whichever comes first: 100 Continue or the answer. */
  function firstSignal(headers: Record<string, string>) {
    return new Promise<{ kind: 'continue' } | { kind: 'response'; status: number }>(
      (resolve, reject) => {
        const req = httpRequest(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': '1048576',
            expect: '100-continue',
            ...headers,
          },
        });
        req.once('continue', () => {
          resolve({ kind: 'continue' });
          req.destroy();
        });
        req.once('response', (response) => {
          resolve({ kind: 'response', status: response.statusCode! });
          req.destroy();
        });
        req.once('error', (err) =>
          err.message.includes('socket hang up') ? undefined : reject(err),
        );
        req.flushHeaders();
      },
    );
  }

  it('refuses a request without a valid key before telling it to send its body', async () => {
    expect(await firstSignal({})).toEqual({ kind: 'response', status: 401 });
    expect(await firstSignal({ authorization: 'Bearer sk-nobody-has-this' })).toEqual({
      kind: 'response',
      status: 401,
    });
  });

  it('asks for the body once the key passed, and forwards it', async () => {
    expect(await firstSignal({ authorization: `Bearer ${caller.key}` })).toEqual({
      kind: 'continue',
    });
    const before = upstream.requests.length;
    const body = JSON.stringify({ model: 'fake-model', messages: [] });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${caller.key}`,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          expect: '100-continue',
        },
      });
      req.once('continue', () => req.end(body));
      req.once('response', (response) => {
        response.resume();
        resolve(response.statusCode!);
      });
      req.once('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(200);
    expect(sentSince(before)).toHaveLength(1);
    expect(sentSince(before)[0]!.headers).not.toHaveProperty('expect');
  });
});

describe('request bodies are limited in time and bytes', () => {
  let slow: RunningGateway;
  beforeAll(async () => {
    slow = await bed.startGateway({
      LITELLM_URL: upstream.url,
      BODY_TIMEOUT: '1s',
      BODY_LIMIT: '64Ki',
    });
  });

  it('answers 408 to a JSON body that does not arrive within BODY_TIMEOUT, forwarding nothing', async () => {
    const before = upstream.requests.length;
    const { response, text } = await rawRequest(
      `${slow.url}/v1/chat/completions`,
      {
        headers: {
          authorization: `Bearer ${caller.key}`,
          'content-type': 'application/json',
          'content-length': 100,
        },
        body: '{"model":"fake-model",',
      },
      false,
    );
    expect(response.statusCode).toBe(408);
    expect(response.headers.connection).toBe('close');
    const error = JSON.parse(await text).error;
    expect(error).toMatchObject({ type: 'invalid_request_error', code: '408' });
    expect(sentSince(before)).toEqual([]);
  });

  it('answers 408 to a streamed body that does not arrive in time, ending the upstream request', async () => {
    // A raw file upload (the files API, enabled for this key) is the one body that streams on
    // unread: neither JSON nor a form.
    const { key } = await bed.updateKey(await bed.addKey(), { enabledRoutes: ['files'] });
    const path = '/v1/files?case=slow-stream';
    const { response, text } = await rawRequest(
      `${slow.url}${path}`,
      {
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
        body: Buffer.alloc(1024),
      },
      false,
    );
    expect(response.statusCode).toBe(408);
    expect(JSON.parse(await text).error.code).toBe('408');
    // The upstream saw the start of the body, never its end.
    await expect.poll(() => sentTo(path).length).toBe(1);
    expect(sentTo(path)[0]!.complete).toBe(false);
  });

  it('an early refusal whose body never ends is its one answer: at BODY_TIMEOUT the connection just closes', async () => {
    // Refused before its body was read (no key), the request's body keeps trickling in: the
    // gateway reads past it until BODY_TIMEOUT, then closes, without a second (408) answer
    // to a request it answered already.
    const { port } = new URL(slow.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n' +
            'Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{',
        );
      });
      let text = '';
      const trickle = setInterval(() => socket.writable && socket.write(' '), 50);
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.once('close', () => {
        clearInterval(trickle);
        resolve(text);
      });
      socket.once('error', (err) =>
        /ECONNRESET|EPIPE/.test(err.message) ? undefined : reject(err),
      );
    });
    expect(answer.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 401']);
  });

  it('answers 408 in OpenAI shape to headers that do not arrive in time', async () => {
    const { port } = new URL(slow.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthoriz');
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      socket.once('close', () => resolve(text));
      socket.once('error', reject);
    });
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(body!).error).toMatchObject({ type: 'invalid_request_error', code: '408' });
  });

  it('does not limit the time of the answer: a slow upstream outlasts BODY_TIMEOUT', async () => {
    upstream.answer({ delayMs: 1_500 });
    const response = await chat(slow, caller.key);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toBe('chatcmpl-1');
  });

  /** Sends `total` bytes of `body` chunked (no content-length) in 8 KiB writes; the answer. */
  function chunkedPost(path: string, key: string, type: string, body: Buffer) {
    return new Promise<{ response: IncomingMessage; text: string }>((resolve, reject) => {
      const req = httpRequest(`${slow.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': type },
      });
      req.once('response', (response) => {
        let text = '';
        response.on('data', (c: Buffer) => (text += c.toString('utf8')));
        response.once('end', () => resolve({ response, text }));
      });
      // The gateway stops reading at the limit and closes: the rest may not be writable.
      req.once('error', (err) => (/EPIPE|ECONNRESET/.test(err.message) ? undefined : reject(err)));
      let sent = 0;
      const writeMore = () => {
        while (sent < body.length) {
          const chunk = body.subarray(sent, sent + 8 * 1024);
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', writeMore);
        }
        req.end();
      };
      writeMore();
    });
  }

  it('cuts a chunked body at BODY_LIMIT by counting its bytes (413), though it declared no length', async () => {
    const { key } = await bed.updateKey(await bed.addKey(), { enabledRoutes: ['files'] });
    const path = '/v1/files?case=chunked-over-limit';
    // 128 KiB, twice the limit: chunked, no content-length, streamed on as it comes.
    const { response, text } = await chunkedPost(
      path,
      key,
      'application/octet-stream',
      Buffer.alloc(128 * 1024, 1),
    );
    expect(response.statusCode).toBe(413);
    expect(response.headers.connection).toBe('close');
    const error = JSON.parse(text).error;
    expect(error).toMatchObject({ code: '413', type: 'invalid_request_error' });
    expect(error.message).toContain(`(${64 * 1024} bytes)`);
    // Whatever reached the upstream was cut off before its end.
    expect(sentTo(path).every((r) => !r.complete && r.body.length <= 64 * 1024)).toBe(true);
  });

  it('holds a chunked multipart form to the same BODY_LIMIT, answered the same way, forwarding nothing', async () => {
    // A form is read whole before anything is forwarded (its model field may come last): the
    // limit it is read to is the one streamed bodies are counted against.
    const path = '/v1/audio/transcriptions?case=chunked-form-over-limit';
    const boundary = 'llmtenancy-over-limit';
    const form = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="model"\r\n\r\nfake-model\r\n` +
          `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\n` +
          'content-type: audio/wav\r\n\r\n',
      ),
      Buffer.alloc(128 * 1024, 1),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const { response, text } = await chunkedPost(
      path,
      caller.key,
      `multipart/form-data; boundary=${boundary}`,
      form,
    );
    expect(response.statusCode).toBe(413);
    expect(response.headers.connection).toBe('close');
    const error = JSON.parse(text).error;
    expect(error).toMatchObject({ code: '413', type: 'invalid_request_error' });
    expect(error.message).toContain(`(${64 * 1024} bytes)`);
    expect(sentTo(path)).toEqual([]);
  });

  it('refuses a compressed body with 415, forwarding nothing', async () => {
    const path = '/v1/chat/completions?case=gzip';
    const response = await fetch(`${slow.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${caller.key}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: gzipSync(JSON.stringify({ model: 'fake-model', messages: [] })),
    });
    expect(response.status).toBe(415);
    await errorOf(response);
    expect(sentTo(path)).toEqual([]);
  });
});

describe('forwarding headers, both ways', () => {
  const spoofed = {
    'x-forwarded-for': '198.51.100.1, 203.0.113.9',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'llm.example.com',
  };

  it("appends the peer and ignores an untrusted caller's X-Forwarded-*", async () => {
    const before = upstream.requests.length;
    expect((await chat(gateway, caller.key, {}, spoofed)).status).toBe(200);
    const [sent] = sentSince(before);
    expect(sent!.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(sent!.headers['x-forwarded-proto']).toBe('http');
    expect(sent!.headers['x-forwarded-host']).toBe(new URL(gateway.url).host);
  });

  it('believes X-Forwarded-* from TRUSTED_PROXIES, back to the first address none vouches for', async () => {
    const behindRouter = await bed.startGateway({
      LITELLM_URL: upstream.url,
      TRUSTED_PROXIES: '127.0.0.0/8',
    });
    let before = upstream.requests.length;
    expect((await chat(behindRouter, caller.key, {}, spoofed)).status).toBe(200);
    let [sent] = sentSince(before);
    // 198.51.100.1 was written by 203.0.113.9, which nobody trusts: dropped.
    expect(sent!.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(sent!.headers['x-forwarded-proto']).toBe('https');
    expect(sent!.headers['x-forwarded-host']).toBe('llm.example.com');

    const twoHops = await bed.startGateway({
      LITELLM_URL: upstream.url,
      TRUSTED_PROXIES: '127.0.0.0/8, 203.0.113.0/24',
    });
    before = upstream.requests.length;
    expect((await chat(twoHops, caller.key, {}, spoofed)).status).toBe(200);
    [sent] = sentSince(before);
    expect(sent!.headers['x-forwarded-for']).toBe('198.51.100.1, 203.0.113.9, 127.0.0.1');
  });

  it('passes back allowlisted response headers only, and keeps its own rate-limit headers', async () => {
    const limited = await bed.addKey({ keyLimits: { rpm: 1000 } });
    upstream.answer({
      headers: {
        'content-type': 'application/json',
        'x-litellm-call-id': 'call-1',
        'x-litellm-model-api-base': 'http://vllm-granite.models.svc.cluster.local:8000/v1',
        'x-litellm-model-id': 'deployment-7',
        'x-litellm-version': '1.108.7',
        'llm_provider-openai-organization': 'org-platform',
        'llm_provider-x-request-id': 'req-provider',
        'x-ratelimit-remaining-requests': '4999',
        server: 'uvicorn',
        'set-cookie': 'token=ui-session',
      },
    });
    const response = await chat(gateway, limited.key);
    expect(response.status).toBe(200);
    const names = [...response.headers.keys()];
    expect(names.filter((n) => /litellm-model|version|llm_provider|server|cookie/.test(n))).toEqual(
      [],
    );
    expect(response.headers.get('x-litellm-call-id')).toBe('call-1');
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('1000');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('999');
  });

  it("rewrites a Location into LiteLLM to the gateway's public URL, and drops one elsewhere", async () => {
    const behindRouter = await bed.startGateway({
      LITELLM_URL: upstream.url,
      TRUSTED_PROXIES: 'loopback',
    });
    upstream.answer({
      status: 307,
      headers: { location: `${upstream.url}/v1/chat/completions?from=slash` },
      body: '',
    });
    const direct = await chatNoFollow(gateway);
    expect(direct.status).toBe(307);
    expect(direct.headers.get('location')).toBe(`${gateway.url}/v1/chat/completions?from=slash`);
    const routed = await chatNoFollow(behindRouter, spoofed);
    expect(routed.headers.get('location')).toBe(
      'https://llm.example.com/v1/chat/completions?from=slash',
    );

    upstream.answer({
      status: 302,
      headers: { location: 'http://minio.storage.svc:9000/files/f-1?X-Amz-Signature=s' },
      body: '',
    });
    const elsewhere = await chatNoFollow(gateway);
    expect(elsewhere.status).toBe(302);
    expect(elsewhere.headers.get('location')).toBeNull();
  });
});
