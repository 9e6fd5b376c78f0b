// The e-mail sink against a real in-process SMTP server (smtp-server), and the recipients it
// chooses from the caches.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import type { Team, User, VirtualKey } from '../../../../../crds/api/index.ts';
import { ObjectStore } from '../../../runtime/cache.ts';
import type { KubeObject } from '../../../runtime/object.ts';
import { alertRecipients } from './alert-recipients.ts';
import { DeliveryError } from './alert-sink.ts';
import { emailSink, type SmtpSettings } from './email-sink.ts';
import { aThresholdAlert } from './test-alert.ts';

interface Mail {
  from: string;
  to: string[];
  data: string;
  user?: string;
}
let server: SMTPServer;
let port: number;
let mails: Mail[] = [];
let refuseWith: { code: number; message: string } | undefined;

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (auth.username === 'alerts' && auth.password === 'smtp-pass')
        callback(null, { user: 'alerts' });
      else callback(Object.assign(new Error('bad credentials'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString()));
      stream.on('end', () => {
        if (refuseWith)
          return callback(
            Object.assign(new Error(refuseWith.message), { responseCode: refuseWith.code }),
          );
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          // Unfolded headers, soft line breaks of quoted-printable removed.
          data: data.replace(/\r?\n[ \t]/g, ' ').replace(/=\r?\n/g, ''),
          ...(session.user ? { user: String(session.user) } : {}),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  mails = [];
  refuseWith = undefined;
});

function storeOf<T extends KubeObject>(objects: object[]): ObjectStore<T> {
  const store = new ObjectStore<T>();
  for (const o of objects) store.set(o as T);
  return store;
}
const aUser = (name: string, email?: string) => ({
  metadata: { name },
  spec: { identity: name, ...(email ? { email } : {}) },
});
const stores = {
  users: storeOf<User>([
    aUser('alice', 'alice@example.com'),
    aUser('bob', 'bob@example.com'),
    aUser('carol', 'carol@example.com'),
    aUser('dave'),
  ]),
  teams: storeOf<Team>([
    {
      metadata: { name: 'ml' },
      spec: {
        members: [
          { user: 'alice', role: 'admin' },
          { user: 'bob' },
          { user: 'carol', role: 'admin' },
          { user: 'dave', role: 'admin' },
        ],
      },
    },
  ]),
  keys: storeOf<VirtualKey>([
    {
      metadata: { name: 'personal', namespace: 'ml-prod' },
      spec: { user: 'bob' },
      status: { team: 'ml' },
    },
    { metadata: { name: 'service', namespace: 'ml-prod' }, spec: {}, status: { team: 'ml' } },
  ]),
};
const recipients = alertRecipients(stores);

describe('alertRecipients', () => {
  it('sends a User, or a personal key, to that User; a Team, or a team key, to its admins', () => {
    expect(recipients({ kind: 'User', namespace: '', name: 'alice' })).toEqual([
      'alice@example.com',
    ]);
    expect(recipients({ kind: 'VirtualKey', namespace: 'ml-prod', name: 'personal' })).toEqual([
      'bob@example.com',
    ]);
    const admins = ['alice@example.com', 'carol@example.com']; // dave has no e-mail, bob is no admin
    expect(recipients({ kind: 'Team', namespace: '', name: 'ml' })).toEqual(admins);
    expect(recipients({ kind: 'VirtualKey', namespace: 'ml-prod', name: 'service' })).toEqual(
      admins,
    );
  });

  it('finds nobody for what it does not know, or who has no e-mail', () => {
    expect(recipients({ kind: 'User', namespace: '', name: 'dave' })).toEqual([]);
    expect(recipients({ kind: 'Team', namespace: '', name: 'gone' })).toEqual([]);
    expect(recipients({ kind: 'VirtualKey', namespace: 'ml-prod', name: 'gone' })).toEqual([]);
  });
});

describe('emailSink', () => {
  const smtp = (overrides: Partial<SmtpSettings> = {}): SmtpSettings => ({
    host: '127.0.0.1',
    port,
    tls: 'none',
    user: 'alerts',
    password: async () => 'smtp-pass',
    from: 'LLM budgets <budgets@example.com>',
    ...overrides,
  });
  const signal = new AbortController().signal;
  const failure = (settings: SmtpSettings) =>
    emailSink(settings, recipients)
      .deliver(aThresholdAlert(90, 'service'), signal)
      .catch((e: unknown) => e as DeliveryError);

  it("mails the team key's alert to the Team's admins, authenticated", async () => {
    await emailSink(smtp(), recipients).deliver(aThresholdAlert(90, 'service'), signal);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({
      from: 'budgets@example.com',
      to: ['alice@example.com', 'carol@example.com'],
      user: 'alerts',
    });
    expect(mails[0]!.data).toContain(
      'Subject: [budget] VirtualKey ml-prod/service: spend reached 90% of the budget ($90.5 of $100)',
    );
    expect(mails[0]!.data).toContain('Budget period: 2026-12-01T00:00:00Z to 2026-12-31T00:00:00Z');
  });

  it('skips an alert nobody can receive', async () => {
    const nobody = emailSink(smtp(), () => []);
    expect(await nobody.deliver(aThresholdAlert(), signal)).toBe('skipped');
    expect(mails).toEqual([]);
  });

  it('retries a 4xx reply or an unreachable server, not a 5xx', async () => {
    refuseWith = { code: 451, message: 'try again later' };
    expect(await failure(smtp())).toMatchObject({
      retryable: true,
      message: 'SMTP server answered 451',
    });
    refuseWith = { code: 554, message: 'rejected' };
    expect(await failure(smtp())).toMatchObject({ retryable: false });
    refuseWith = undefined;
    expect(await failure(smtp({ password: async () => 'wrong' }))).toMatchObject({
      retryable: false,
      message: 'SMTP server answered 535',
    });
    const down = await failure(smtp({ port: 9, timeoutMs: 500 }));
    expect(down).toBeInstanceOf(DeliveryError);
    expect(down).toMatchObject({ retryable: true });
    expect((down as DeliveryError).message).not.toContain('smtp-pass');
  });
});
