// The audit trail's webhook copy, end to end: a gateway configured as the chart configures it
// (AUDIT_LOG a file, AUDIT_WEBHOOK_URL, AUDIT_WEBHOOK_SECRET_FILE) signs people in with the
// master key, right and wrong, while the receiver is down for a while. Every record reaches
// both the log file and the receiver, in the same order, each request signed with the
// secret; the receiver's outage loses nothing; stopping the gateway delivers what is left;
// and the master key appears in neither.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../contracts/audit/audit-record.ts';
import { startSigninBed, type SigninBed } from './support/signin-bed.ts';

const SECRET = 'audit-webhook-signing-secret';
const MASTER_KEY = 'sk-master-audit-webhook-0123';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

function signedWith(secret: string, { headers, body }: Received): boolean {
  const timestamp = String(headers['x-llm-tenancy-timestamp']);
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false; // a replay
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`,
  );
  const got = Buffer.from(String(headers['x-llm-tenancy-signature'] ?? ''));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

describe('audit webhook', () => {
  let bed: SigninBed;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  /** Answers the receiver gives before it answers 204. */
  let outage: number[] = [];

  beforeAll(async () => {
    bed = await startSigninBed();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = outage.shift() ?? 204;
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString(), status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/audit`;
  });
  afterAll(async () => {
    await bed?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('copies every record to the receiver, signed, in order, through an outage', async () => {
    const auditFile = join(bed.dir, 'audit.jsonl');
    const gateway = await bed.startGateway(
      {
        LITELLM_MASTER_KEY_FILE: bed.file('master-key', MASTER_KEY),
        AUDIT_LOG: auditFile,
        AUDIT_WEBHOOK_URL: receiverUrl,
        AUDIT_WEBHOOK_SECRET_FILE: bed.file('audit-webhook-secret', `${SECRET}\n`),
      },
      { audit: undefined }, // the gateway's own trail, from its configuration
    );
    outage = [503, 503];
    const as = (key: string) =>
      fetch(`${gateway.url}/auth/session`, { headers: { authorization: `Bearer ${key}` } });
    expect((await as(MASTER_KEY)).status).toBe(200);
    expect((await as(`${MASTER_KEY}-wrong`)).status).toBe(401);
    expect((await as(MASTER_KEY)).status).toBe(200);
    await gateway.close(); // delivers what the outage held back

    const fromFile = readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as AuditRecord & { logType: string; component: string; level: string },
      );
    expect(fromFile.map((r) => [r.action, r.result.outcome])).toEqual([
      ['signin.master-key', 'ok'],
      ['signin.master-key', 'error'],
      ['signin.master-key', 'ok'],
    ]);
    expect(fromFile.every((r) => r.logType === 'audit')).toBe(true);

    expect(received.length).toBeGreaterThanOrEqual(3); // two refused by the outage, then taken
    expect(received.slice(0, 2).map((r) => r.status)).toEqual([503, 503]);
    expect(received.every((r) => signedWith(SECRET, r))).toBe(true);
    expect(received.some((r) => signedWith('another-secret', r))).toBe(false);
    const delivered = received
      .filter((r) => r.status < 300)
      .flatMap((r) => (JSON.parse(r.body) as { records: AuditRecord[] }).records);
    // The same records as the log file, in the same order, each exactly once.
    expect(delivered).toEqual(
      fromFile.map(({ logType: _logType, component: _component, level: _level, ...r }) => r),
    );

    const everything = [readFileSync(auditFile, 'utf8'), ...received.map((r) => r.body)].join('\n');
    expect(everything).not.toContain(MASTER_KEY);
    expect(bed.logs.join('')).not.toContain(MASTER_KEY);
    expect(bed.logs.join('')).not.toContain(SECRET);
  });
});
