// The audit webhook against a real HTTP receiver: signed batches in order, retried through
// outages without loss or reordering, a refusal for good dropping only its batch, a bounded
// queue, and a close that delivers what is left.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signedPoster } from '../webhook/signed-post.ts';
import { auditRecord, succeeded, type AuditRecord } from './audit-record.ts';
import { AuditWebhook } from './audit-webhook.ts';

const SECRET = 'audit-whsec-0123456789';
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
}
let server: Server;
let url: string;
let received: Received[];
/** The statuses the receiver answers, in turn; 200 once they run out. */
let answers: number[];
let webhook: AuditWebhook | undefined;
const warnings: string[] = [];
const errors: string[] = [];
const log = {
  warn: (_fields: object, message: string) => warnings.push(message),
  error: (_fields: object, message: string) => errors.push(message),
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answers.shift() ?? 200;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString(), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  received = [];
  answers = [];
  warnings.length = 0;
  errors.length = 0;
});
afterEach(async () => {
  await webhook?.close(100);
  webhook = undefined;
});

function open(options: { batchSize?: number; maxQueued?: number; registry?: Registry } = {}) {
  webhook = new AuditWebhook({
    post: signedPoster({ url, secret: async () => SECRET }),
    log,
    backoff: { initialDelayMs: 20, maxDelayMs: 40 },
    ...options,
  });
  return webhook;
}

const record = (n: number): AuditRecord =>
  auditRecord({
    actor: { type: 'operator', for: `VirtualKey team-a/key-${n}` },
    action: 'litellm.key.update',
    changes: { n },
    result: succeeded,
  });

/** The `n` of every record the receiver took (answered 2xx), in arrival order. */
function deliveredNumbers(): number[] {
  return received
    .filter((r) => r.status < 300)
    .flatMap((r) => (JSON.parse(r.body) as { records: AuditRecord[] }).records)
    .map((r) => (r.changes as { n: number }).n);
}

function signed({ headers, body }: Received): boolean {
  const timestamp = String(headers['x-llm-tenancy-timestamp']);
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`,
  );
  const got = Buffer.from(String(headers['x-llm-tenancy-signature']));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

async function settled(sink: AuditWebhook) {
  await expect.poll(() => sink.pending, { timeout: 5_000, interval: 10 }).toBe(0);
}

describe('audit webhook', () => {
  it('posts signed batches of records, in order, at most batchSize a request', async () => {
    const sink = open({ batchSize: 3 });
    for (let n = 1; n <= 7; n++) sink.write(record(n));
    await settled(sink);
    expect(received.every(signed)).toBe(true);
    const batches = received.map((r) => (JSON.parse(r.body) as { records: AuditRecord[] }).records);
    expect(batches.every((b) => b.length >= 1 && b.length <= 3)).toBe(true);
    expect(batches.flat().map((r) => (r.changes as { n: number }).n)).toEqual([
      1, 2, 3, 4, 5, 6, 7,
    ]);
    expect(batches[0]![0]).toMatchObject({
      action: 'litellm.key.update',
      result: { outcome: 'ok' },
    });
  });

  it('retries through an outage and a 429, losing and reordering nothing', async () => {
    const registry = new Registry();
    answers = [503, 503, 429];
    const sink = open({ batchSize: 2, registry });
    for (let n = 1; n <= 5; n++) sink.write(record(n));
    await settled(sink);
    // The first three answers refused the same head batch; then every batch went through.
    const bodies = received.map((r) => r.body);
    expect(bodies[0]).toBe(bodies[1]);
    expect(bodies[1]).toBe(bodies[2]);
    expect(deliveredNumbers()).toEqual([1, 2, 3, 4, 5]);
    expect(warnings.filter((w) => w.includes('retrying'))).toHaveLength(3);
    const metrics = await registry.getSingleMetricAsString(
      'llmtenancy_audit_webhook_records_total',
    );
    expect(metrics).toContain('outcome="delivered"} 5');
    expect(metrics).not.toContain('outcome="dropped"');
  });

  it('drops a batch the receiver refuses for good, and goes on with the next', async () => {
    answers = [400];
    const sink = open({ batchSize: 2 });
    for (let n = 1; n <= 4; n++) sink.write(record(n));
    await settled(sink);
    // The first record went alone, at once, and was refused; the rest went together.
    expect(deliveredNumbers()).toEqual([2, 3, 4]);
    expect(errors).toEqual([expect.stringContaining('refused a batch for good')]);
  });

  it('keeps at most maxQueued records while the receiver is down, dropping the oldest', async () => {
    const registry = new Registry();
    answers = Array(1_000).fill(503);
    const sink = open({ batchSize: 10, maxQueued: 5, registry });
    sink.write(record(1)); // sent at once, and refused: the batch being retried
    for (let n = 2; n <= 9; n++) sink.write(record(n));
    // The batch being sent, and the newest five waiting: 2, 3 and 4 went.
    expect(sink.pending).toBe(1 + 5);
    const metrics = await registry.getSingleMetricAsString(
      'llmtenancy_audit_webhook_records_total',
    );
    expect(metrics).toContain('outcome="dropped"} 3');
    expect(warnings).toContain(
      'audit webhook queue full: oldest records dropped (the audit log keeps them)',
    );
    answers = [];
    await settled(sink);
    expect(deliveredNumbers()).toEqual([1, 5, 6, 7, 8, 9]);
    const last = received.at(-1)!;
    expect(
      (JSON.parse(last.body) as { records: AuditRecord[] }).records.map(
        (r) => (r.changes as { n: number }).n,
      ),
    ).toEqual([5, 6, 7, 8, 9]);
  });

  it('delivers what is queued when closed, cutting a retry wait short', async () => {
    answers = [503];
    webhook = new AuditWebhook({
      post: signedPoster({ url }),
      log,
      backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    webhook.write(record(1));
    await expect.poll(() => received.length, { timeout: 2_000, interval: 10 }).toBe(1);
    await webhook.close(2_000);
    expect(received).toHaveLength(2);
    expect(webhook.pending).toBe(0);
    webhook.write(record(2)); // after close: dropped, never sent
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toHaveLength(2);
  });
});
