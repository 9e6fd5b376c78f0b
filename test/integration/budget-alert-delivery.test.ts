// Budget alerts delivered end to end: the operator's spend sync against the real API server
// and the LiteLLM test server reporting costs, a real HTTP webhook receiver that verifies the
// HMAC signature, and a real SMTP server. A key and a team cross their thresholds: each alert
// arrives exactly once per period, over an operator restart and after a budget reset; a
// receiver that is down gets it after retries; a receiver that answers 400 is not retried.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VirtualKey } from '../../crds/api/index.ts';
import type { BudgetAlert } from '../../operator/src/controllers/spend/alerts/budget-alert.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  condition,
  KeyObjects,
  startKeyOperator,
  type KeyOperator,
  type KeyOperatorOptions,
} from './support/key-operator.ts';
import { poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SECRET = 'budget-webhook-secret-for-tests';
const DAY = 86_400_000;

async function until(check: () => Promise<unknown>, what: string): Promise<void> {
  for (const deadline = Date.now() + poll.timeout; !(await check()); await sleep(poll.interval))
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}

/** A webhook receiver that accepts only correctly signed, fresh requests. */
class Receiver {
  answer = 204;
  /** Every request, answered or not: its alert id and what was answered. */
  readonly requests: { id: string; status: number }[] = [];
  readonly alerts: BudgetAlert[] = [];
  unsigned = 0;
  server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const timestamp = String(req.headers['x-llm-tenancy-timestamp']);
      const expected = Buffer.from(
        `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`,
      );
      const given = Buffer.from(String(req.headers['x-llm-tenancy-signature'] ?? ''));
      const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      if (given.length !== expected.length || !timingSafeEqual(given, expected) || !fresh) {
        this.unsigned++;
        return void res.writeHead(401).end();
      }
      const alert = JSON.parse(body) as BudgetAlert;
      this.requests.push({ id: alert.id, status: this.answer });
      if (this.answer < 300) this.alerts.push(alert);
      res.writeHead(this.answer).end();
    });
  });
  get url() {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/budget`;
  }
  of(name: string) {
    return this.alerts
      .filter((a) => a.name === name)
      .map((a) =>
        a.type === 'budget.threshold_reached' ? `${a.threshold}% ${a.periodStart}` : `${a.type}`,
      );
  }
}

describe('budget alert delivery', () => {
  const run = suffix();
  const namespace = `alerts-${run}`;
  const admin = `alert-admin-${run}`;
  const receiver = new Receiver();
  const mails: { to: string[]; subject: string }[] = [];
  let smtp: SMTPServer;
  let secretDir: string;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let objects: KeyObjects;
  let options: KeyOperatorOptions;

  const keyOf = async (name: string) => (await objects.getKey(namespace, name))!;
  const litellmKey = (key: VirtualKey) => litellm.store.keys.get(key.status!.keyId!)!;

  beforeAll(async () => {
    const kc = kubeConfigFromInject();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (c: Buffer) => (data += c.toString()));
        stream.on('end', () => {
          const subject = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(data)?.[1] ?? '';
          mails.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: subject.replace(/\r?\n[ \t]/g, ' '),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    secretDir = mkdtempSync(join(tmpdir(), 'budget-alerts-'));
    writeFileSync(join(secretDir, 'secret'), `${SECRET}\n`);

    litellm = await start({ masterKey: 'sk-master-key-for-tests', models: ['granite-3-8b'] });
    objects = new KeyObjects(kc, { [TEST_RUN_LABEL]: run });
    options = {
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix: `test-${run}:`,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: 10 * 60_000,
      spendSyncIntervalMs: 300,
      budgetAlerts: {
        webhook: { url: receiver.url, secretFile: join(secretDir, 'secret'), format: 'json' },
        smtp: {
          host: '127.0.0.1',
          port: (smtp.server.address() as AddressInfo).port,
          tls: 'none',
          user: undefined,
          password: undefined,
          from: 'budgets@example.com',
        },
      },
      alertRetry: { maxAttempts: 6, initialDelayMs: 200, maxDelayMs: 1_000 },
    };
    operator = await startKeyOperator(options);
    await objects.namespace(namespace);
    await objects.readyUser(admin);
    await objects.teams.create(namespace, {
      namespaces: [namespace],
      models: ['*'],
      members: [{ user: admin, role: 'admin' }],
      limits: { maxBudget: 500, budgetDuration: '7d' },
    });
    await until(async () => (await objects.teams.get(namespace))?.status?.teamId, 'a team id');
    await objects.subscription(namespace, 'granite-3-8b', { model: 'granite-3-8b' });
    await objects.key(namespace, 'spender', { limits: { maxBudget: 10, budgetDuration: '30d' } });
    await until(
      async () => condition(await keyOf('spender')) === 'True/KeyReady',
      'the key to be ready',
    );
  });

  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
    await new Promise((resolve) => receiver.server.close(resolve));
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    if (secretDir) rmSync(secretDir, { recursive: true, force: true });
  });

  it('delivers each threshold of a key and a team once, signed, and mails the team admins', async () => {
    const key = await keyOf('spender');
    litellmKey(key).spend = 6;
    const teamId = (await objects.teams.get(namespace))!.status!.teamId!;
    litellm.store.teams.get(teamId)!.spend = 260;
    await expect.poll(() => receiver.alerts.length, poll).toBe(2);
    const keyPeriod = (await keyOf('spender')).status!.budget!.periodStart;
    expect(receiver.of('spender')).toEqual([`50% ${keyPeriod}`]);
    expect(receiver.of(namespace)).toHaveLength(1);
    expect(receiver.alerts.find((a) => a.kind === 'Team')).toMatchObject({
      litellmId: teamId,
      threshold: 50,
      spend: '260',
      maxBudget: '500',
    });
    expect(receiver.unsigned).toBe(0);
    // The team's alert goes to its admin; the key (a team key) too.
    await expect.poll(() => mails.length, poll).toBe(2);
    expect(mails.map((m) => m.to)).toEqual([[`${admin}@example.com`], [`${admin}@example.com`]]);
    expect(mails.map((m) => m.subject).sort()).toEqual([
      `[budget] Team ${namespace}: spend reached 50% of the budget ($260 of $500)`,
      `[budget] VirtualKey ${namespace}/spender: spend reached 50% of the budget ($6 of $10)`,
    ]);
  });

  it('delivers after retries when the receiver is down, then up', async () => {
    receiver.answer = 503;
    litellmKey(await keyOf('spender')).spend = 8;
    await expect
      .poll(() => receiver.requests.filter((r) => r.status === 503).length, poll)
      .toBeGreaterThanOrEqual(2);
    receiver.answer = 204;
    await expect.poll(() => receiver.of('spender').length, poll).toBe(2);
    expect(receiver.of('spender')[1]).toMatch(/^75% /);
  });

  it('does not retry a receiver that answers 400', async () => {
    receiver.answer = 400;
    const before = receiver.requests.length;
    litellmKey(await keyOf('spender')).spend = 9.2;
    await expect.poll(() => receiver.requests.length, poll).toBe(before + 1);
    await sleep(2_000); // longer than every backoff of the policy
    expect(receiver.requests.slice(before)).toEqual([
      { id: expect.stringMatching(/threshold_reached:90$/) as string, status: 400 },
    ]);
    receiver.answer = 204;
  });

  it('repeats nothing over an operator restart, and alerts afresh after a budget reset', async () => {
    await operator.stop();
    operator = await startKeyOperator(options);
    litellmKey(await keyOf('spender')).spend = 9.4; // no new threshold
    await expect.poll(async () => (await keyOf('spender')).status?.spend, poll).toBe('9.4');
    await sleep(1_500);
    const delivered = receiver.alerts.length;
    expect(receiver.of('spender')).toHaveLength(2); // 50 and 75 (90 was refused)
    expect(mails).toHaveLength(2 + 2); // 75 and 90 were mailed too

    // LiteLLM resets the budget: a new period, 10 days in. $4 in 10 of 30 days projects $12.
    const key = await keyOf('spender');
    litellmKey(key).budget_reset_at = new Date(Date.now() + 20 * DAY).toISOString();
    litellmKey(key).spend = 4;
    await expect
      .poll(() => receiver.of('spender').slice(2), poll)
      .toEqual(['budget.exhaustion_projected']);
    litellmKey(key).spend = 6;
    const newPeriod = async () => (await keyOf('spender')).status!.budget!.periodStart;
    await expect.poll(() => receiver.of('spender').length, poll).toBe(4);
    expect(receiver.of('spender')[3]).toBe(`50% ${await newPeriod()}`);
    await sleep(1_000);
    expect(receiver.alerts.length).toBe(delivered + 2);
    expect(receiver.unsigned).toBe(0);
  });
});
