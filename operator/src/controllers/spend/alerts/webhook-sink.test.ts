// The webhook sink against a real HTTP receiver that checks the signature the way a
// receiver must: HMAC-SHA256 over "<timestamp>.<raw body>", compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from './alert-sink.ts';
import { aThresholdAlert } from './test-alert.ts';
import { webhookSink, type WebhookSinkOptions } from './webhook-sink.ts';

const SECRET = 'whsec-test-0123456789';
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
let server: Server;
let url: string;
let received: Received[] = [];
let answer: { status: number; headers?: Record<string, string> } = { status: 204 };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(answer.status, answer.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://user:pw-in-url@127.0.0.1:${(server.address() as AddressInfo).port}/hooks/budget`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  received = [];
  answer = { status: 204 };
});

function verified({ headers, body }: Received, secret: string): boolean {
  const timestamp = String(headers['x-llm-tenancy-timestamp']);
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
  const given = Buffer.from(String(headers['x-llm-tenancy-signature']));
  return given.length === expected.length && timingSafeEqual(given, Buffer.from(expected));
}

const sink = (options: Partial<WebhookSinkOptions> = {}) =>
  webhookSink({
    url,
    format: 'json',
    secret: async () => SECRET,
    now: () => Date.parse('2026-12-10T08:00:00Z'),
    ...options,
  });
const deliver = (s = sink()) => s.deliver(aThresholdAlert(), new AbortController().signal);
const failure = async (s = sink()) => {
  const err = await deliver(s).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
};

describe('webhookSink', () => {
  it('POSTs the alert as JSON, signed over the timestamp and the body', async () => {
    await deliver();
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.headers['content-type']).toBe('application/json');
    // The URL's credentials, as Basic authorization.
    expect(request!.headers.authorization).toBe(
      `Basic ${Buffer.from('user:pw-in-url').toString('base64')}`,
    );
    expect(request!.headers['x-llm-tenancy-timestamp']).toBe(
      String(Date.parse('2026-12-10T08:00:00Z') / 1000),
    );
    expect(verified(request!, SECRET)).toBe(true);
    expect(verified(request!, 'another secret')).toBe(false);
    expect(verified({ ...request!, body: request!.body.replace('90.5', '9.5') }, SECRET)).toBe(
      false,
    );
    expect(JSON.parse(request!.body)).toEqual({
      id: 'VirtualKey/ml-prod/chatbot/2026-12-01T00:00:00Z/budget.threshold_reached:90',
      type: 'budget.threshold_reached',
      kind: 'VirtualKey',
      namespace: 'ml-prod',
      name: 'chatbot',
      litellmId: 'a1b2c3',
      threshold: 90,
      spend: '90.5',
      maxBudget: '100',
      usedFraction: '0.9050',
      periodStart: '2026-12-01T00:00:00Z',
      resetsAt: '2026-12-31T00:00:00Z',
      at: '2026-12-10T08:00:00.000Z',
    });
  });

  it('sends Slack-compatible {text} with the slack format', async () => {
    await deliver(sink({ format: 'slack' }));
    expect(JSON.parse(received[0]!.body)).toEqual({
      text: 'VirtualKey ml-prod/chatbot: spend reached 90% of the budget ($90.5 of $100)',
    });
  });

  it('sends no signature without a secret', async () => {
    await deliver(sink({ secret: undefined }));
    expect(received[0]!.headers).not.toHaveProperty('x-llm-tenancy-signature');
  });

  it('retries 5xx, 408 and 429 (with Retry-After), not other 4xx', async () => {
    for (const status of [500, 503, 408]) {
      answer = { status };
      expect(await failure()).toMatchObject({
        retryable: true,
        message: `webhook answered ${status}`,
      });
    }
    answer = { status: 429, headers: { 'retry-after': '7' } };
    expect(await failure()).toMatchObject({ retryable: true, retryAfterMs: 7_000 });
    for (const status of [400, 401, 404, 410]) {
      answer = { status };
      expect(await failure()).toMatchObject({ retryable: false });
    }
    answer = { status: 302, headers: { location: 'http://elsewhere.invalid/' } };
    expect(await failure()).toMatchObject({ retryable: false, message: 'webhook answered 302' });
  });

  it('retries an unreachable receiver or a timeout, and never names the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = await failure(sink({ url: `http://user:pw-in-url@127.0.0.1:${port}/` }));
    expect(down).toMatchObject({ retryable: true, message: 'webhook unreachable (ECONNREFUSED)' });
    expect(down.message).not.toContain('pw-in-url');
    const slow = webhookSink({
      url,
      format: 'json',
      timeoutMs: 50,
      fetch: (_, init) =>
        new Promise((_resolve, reject) =>
          init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason as Error)),
        ),
    });
    expect(await failure(slow)).toMatchObject({
      retryable: true,
      message: 'webhook did not answer within 50 ms',
    });
  });
});
