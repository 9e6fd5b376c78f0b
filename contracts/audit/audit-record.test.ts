import { describe, expect, it } from 'vitest';
import { hashKey } from '../routing/key-hash.ts';
import { auditRecord, withoutSecrets } from './audit-record.ts';

const key = 'sk-Qx7lV0c2mG3s1xZr2-bKp0Hn6yTq9wE4aJd8uF5iLoM';
const master = 'sk-master-3vJw9zT2qL';

describe('withoutSecrets', () => {
  it('turns a key into its hash wherever it is, named or not', () => {
    const hidden = withoutSecrets({
      key,
      keys: [key, hashKey(key)],
      note: `rotated to ${key}.`,
      nested: { list: [{ value: key }] },
    });
    expect(JSON.stringify(hidden)).not.toContain(key);
    expect(hidden).toEqual({
      key: hashKey(key),
      keys: [hashKey(key), hashKey(key)],
      note: `rotated to ${hashKey(key)}.`,
      nested: { list: [{ value: hashKey(key) }] },
    });
  });

  it('hides the secrets it is told of, even when they do not look like keys', () => {
    const secret = 'correct-horse-battery';
    const hidden = withoutSecrets({ detail: `refused ${secret}` }, [secret]);
    expect(hidden).toEqual({ detail: `refused ${hashKey(secret)}` });
  });

  it('drops credentials: authorization, cookies, tokens, passwords, the master key', () => {
    const hidden = withoutSecrets({
      authorization: `Bearer ${master}`,
      headers: { cookie: 'llmt_session=s%3Aabc.def', 'set-cookie': 'x=y' },
      idToken: 'eyJhbGciOi.payload.sig',
      refresh_token: 'rt-123',
      password: 'hunter2',
      masterKey: master,
      api_key: 'whatever',
      csrfToken: 'csrf-value-77',
    });
    const text = JSON.stringify(hidden);
    for (const secret of [
      master,
      'abc.def',
      'eyJhbGciOi',
      'rt-123',
      'hunter2',
      'whatever',
      'csrf-value-77',
    ])
      expect(text).not.toContain(secret);
    expect(hidden.authorization).toBe('[redacted]');
  });

  it('cuts the token of a Bearer header that shows up inside a message', () => {
    const hidden = withoutSecrets({ message: 'sent Authorization: Bearer abc.def-123 and failed' });
    expect(hidden.message).toBe('sent Authorization: Bearer [redacted] and failed');
  });

  it('leaves hashes, names and numbers as they are', () => {
    const fields = {
      key: hashKey(key),
      team_id: 'ml-research',
      key_alias: 'ml-research/chatbot',
      max_budget: 12.5,
      blocked: false,
      models: ['granite-3-8b'],
      desk: 'task-assistant-bot',
    };
    expect(withoutSecrets(fields)).toEqual(fields);
  });
});

describe('auditRecord', () => {
  it('stamps the time and hides secrets in every field, the actor included', () => {
    const record = auditRecord(
      {
        actor: { type: 'operator', for: `VirtualKey a/b ${key}` },
        action: 'litellm.key.create',
        litellmId: hashKey(key),
        changes: { key, metadata: { note: master } },
        result: { outcome: 'error', status: 400, message: `duplicate ${key}` },
      },
      { secrets: [master], now: new Date('2026-01-02T03:04:05Z') },
    );
    expect(record.time).toBe('2026-01-02T03:04:05.000Z');
    const text = JSON.stringify(record);
    expect(text).not.toContain(key);
    expect(text).not.toContain(master);
    expect(record.changes).toEqual({ key: hashKey(key), metadata: { note: hashKey(master) } });
  });
});
