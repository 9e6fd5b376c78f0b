// The operator's audit records, from a real LiteLLM client talking to the LiteLLM test server:
// every write is recorded once with its outcome, reads are not, and no key value ever reaches
// a record, not even the plaintext /key/generate sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../contracts/audit/audit-record.ts';
import { startLiteLLMServer, type LiteLLMTestServer } from '../../../test/litellm-server/server.ts';
import { LiteLLMClient } from '../litellm/client.ts';
import { hashKey } from '../litellm/hash.ts';
import { auditLiteLLMWrites } from './litellm-audit.ts';

const masterKey = 'sk-master-audit-unit-test';
const key = 'sk-audit-unit-3vJw9zT2qLx8PmN4cR7sY1dF6hK0';
const subject = { kind: 'VirtualKey', namespace: 'ml-research', name: 'chatbot', uid: 'uid-1' };
const call = { object: 'VirtualKey ml-research/chatbot', subject };

let server: LiteLLMTestServer;
const records: AuditRecord[] = [];
let client: LiteLLMClient;

beforeAll(async () => {
  server = await startLiteLLMServer({ masterKey, models: ['gpt-test'] });
  client = new LiteLLMClient({
    baseUrl: server.url,
    masterKey,
    retry: { maxAttempts: 1 },
    onWrite: auditLiteLLMWrites({ write: (record) => records.push(record) }),
  });
});
afterAll(async () => {
  await server?.stop();
});

describe('LiteLLM writes as audit records', () => {
  it("records a key's life, each write once, by the key's hash, never its value", async () => {
    records.length = 0;
    await client.newTeam(
      { team_id: 'ml-research', models: ['gpt-test'] },
      {
        object: 'Team ml-research',
        subject: { kind: 'Team', name: 'ml-research', uid: 'uid-t' },
      },
    );
    await client.generateKey(
      { key, key_alias: 'ml-research/chatbot', team_id: 'ml-research', max_budget: 5 },
      call,
    );
    await client.keyInfo(key, call); // a read: not recorded
    await client.updateKey({ key, max_budget: 7 }, call);
    await client.blockKey(key, call);
    await client.deleteKeys({ keys: [key] }, call);

    expect(records.map((r) => r.action)).toEqual([
      'litellm.team.create',
      'litellm.key.create',
      'litellm.key.update',
      'litellm.key.block',
      'litellm.key.delete',
    ]);
    expect(records[0]).toMatchObject({
      actor: { type: 'operator', for: 'Team ml-research' },
      object: { kind: 'Team', name: 'ml-research', uid: 'uid-t' },
      litellmId: 'ml-research',
      changes: { models: ['gpt-test'] },
      result: { outcome: 'ok' },
    });
    expect(records[1]).toEqual({
      time: expect.any(String),
      actor: { type: 'operator', for: 'VirtualKey ml-research/chatbot' },
      action: 'litellm.key.create',
      object: subject,
      litellmId: hashKey(key),
      changes: { key_alias: 'ml-research/chatbot', team_id: 'ml-research', max_budget: 5 },
      result: { outcome: 'ok' },
    });
    expect(records[2]).toMatchObject({ litellmId: hashKey(key), changes: { max_budget: 7 } });
    for (const record of records) {
      expect(JSON.stringify(record)).not.toContain(key);
      expect(JSON.stringify(record)).not.toContain(masterKey);
    }
  });

  it('records a refused write with its status and reason', async () => {
    records.length = 0;
    await expect(
      client.deleteKeys({ keys: [hashKey('sk-never-was-a-key-here')] }, call),
    ).rejects.toThrow();
    expect(records).toEqual([
      expect.objectContaining({
        action: 'litellm.key.delete',
        litellmId: hashKey('sk-never-was-a-key-here'),
        result: expect.objectContaining({ outcome: 'error', status: 404, reason: 'notFound' }),
      }),
    ]);
  });

  it('names the operator for what it was doing when no object is given (orphan collection)', async () => {
    records.length = 0;
    await client.newTeam({ team_id: 'orphan-team' });
    await client.deleteTeams(['orphan-team'], { object: 'orphaned LiteLLM team orphan-team' });
    expect(records[1]).toMatchObject({
      actor: { type: 'operator', for: 'orphaned LiteLLM team orphan-team' },
      action: 'litellm.team.delete',
      litellmId: 'orphan-team',
      result: { outcome: 'ok' },
    });
    expect(records[1]).not.toHaveProperty('object');
  });
});
