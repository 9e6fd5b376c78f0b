import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLogDestination, openAuditLog } from './audit-log.ts';
import { auditRecord } from './audit-record.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('the audit log', () => {
  it('appends one JSON line per record to a file, marked for log pipelines, nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audit-log-'));
    dirs.push(dir);
    const file = join(dir, 'nested', 'audit.jsonl'); // the directory is made
    const record = auditRecord(
      {
        actor: { type: 'person', name: 'alice', groups: ['devs'], via: 'session' },
        action: 'selfservice.key.delete',
        object: { kind: 'VirtualKey', namespace: 'a', name: 'k', uid: 'u' },
        result: { outcome: 'ok' },
        kubernetesAuditId: '2c6a4f1e-0000-4000-8000-000000000001',
      },
      { now: new Date('2026-01-02T03:04:05Z') },
    );
    for (const attempt of [1, 2]) {
      const log = openAuditLog({ file }, 'llm-tenancy-gateway');
      log.write({ ...record, action: `${record.action}.${attempt}` });
      log.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      {
        level: 'audit',
        logType: 'audit',
        component: 'llm-tenancy-gateway',
        ...record,
        action: `${record.action}.1`,
      },
      {
        level: 'audit',
        logType: 'audit',
        component: 'llm-tenancy-gateway',
        ...record,
        action: `${record.action}.2`,
      },
    ]);
  });

  it('AUDIT_LOG: stdout unless a path is given', () => {
    expect(auditLogDestination(undefined)).toBe('stdout');
    expect(auditLogDestination(' ')).toBe('stdout');
    expect(auditLogDestination('stdout')).toBe('stdout');
    expect(auditLogDestination('/var/log/audit.jsonl')).toEqual({ file: '/var/log/audit.jsonl' });
  });
});
