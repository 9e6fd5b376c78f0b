// The audit trail end to end: the key operator and the self-service API, each writing its
// records through the real audit log stream (a file, as AUDIT_LOG=<path> does), against the
// real API server, the LiteLLM test server and Redis. A key lives its whole life (created,
// rotated, its old value deleted, suspended, deleted) and a person creates and revokes a key
// of their own through the gateway. Then every log line, audit record, Event, status and
// metric the run produced is searched for every key value the run saw: none may appear.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openAuditLog, type AuditLog } from '../../contracts/audit/audit-log.ts';
import type { AuditRecord } from '../../contracts/audit/audit-record.ts';
import { hashKey } from '../../contracts/routing/key-hash.ts';
import { PersonKube } from '../../gateway/src/kube/person-kube.ts';
import { selfServicePlugin } from '../../gateway/src/self-service/self-service-plugin.ts';
import { auditLiteLLMWrites } from '../../operator/src/audit/litellm-audit.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  condition,
  KeyObjects,
  litellmKeysOf,
  secretKey,
  ShiftedClock,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { createAll } from './support/principals.ts';
import { poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';
import {
  EXAMPLE_KEY_SECRET,
  rbacInEffect,
  tenantRbac,
  type RbacObject,
} from './support/tenant-rbac.ts';
import { person, TEST_PRINCIPAL_HEADER, TestPrincipals } from './support/test-principal.ts';

const MODEL = 'granite-3-8b';
/** The self-service key: named as the Secret the example tenant Role lets the team read. */
const MINE = EXAMPLE_KEY_SECRET;
const HOUR = 3_600_000;
const KUBE_AUDIT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A stream of JSON log lines into `lines`. */
function linesInto(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
}

describe('audit trail', () => {
  const run = suffix();
  const labels = { [TEST_RUN_LABEL]: run };
  const namespace = `audit-${run}`;
  const tenant = { namespace, group: `audit-devs-${run}`, user: `alice-${run}` };
  const alice = tenant.user;
  const masterKey = `sk-master-audit-${run}`;
  const clock = new ShiftedClock();
  const operatorLogs: string[] = [];
  const gatewayLogs: string[] = [];
  /** Every object as it was seen during the run: statuses are searched too. */
  const seen: unknown[] = [];
  /** Every key value the run saw, from the Secrets and the self-service answer. */
  const keyValues = new Set<string>();
  let dir: string;
  let auditFile: string;
  let operatorAudit: AuditLog;
  let gatewayAudit: AuditLog;
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let registry: Registry;
  let operator: KeyOperator;
  let objects: KeyObjects;
  let rbac: RbacObject[] = [];
  let gateway: FastifyInstance;
  let personKube: PersonKube;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'audit-trail-'));
    auditFile = join(dir, 'audit.jsonl');
    // Both programs append to one file here, as two pods' streams would meet in a pipeline.
    operatorAudit = openAuditLog({ file: auditFile }, 'llm-tenancy-operator');
    gatewayAudit = openAuditLog({ file: auditFile }, 'llm-tenancy-gateway');
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey, models: [MODEL] });
    objects = new KeyObjects(kc, labels);
    registry = new Registry();
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix: `test-${run}:`,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: 1_500,
      clock,
      onWrite: auditLiteLLMWrites(operatorAudit),
      logger: pino({ level: 'debug' }, linesInto(operatorLogs)),
      registry,
    });
    await objects.namespace(namespace);
    rbac = await tenantRbac(run, [tenant]);
    await createAll(kc, rbac);
    await objects.readyUser(alice);
    await objects.teams.create(namespace, {
      namespaces: [namespace],
      models: [MODEL],
      members: [{ user: alice }],
      groups: [tenant.group],
    });
    await objects.subscription(namespace, 'granite', { model: MODEL });
    await rbacInEffect(kc, { user: alice, groups: [tenant.group] }, namespace);

    personKube = new PersonKube(kc);
    gateway = Fastify({ logger: { level: 'debug', stream: linesInto(gatewayLogs) } });
    const principals = new TestPrincipals();
    principals.install(gateway);
    principals.add('alice', person({ login: alice, groups: [tenant.group] }));
    await gateway.register(selfServicePlugin, {
      kube: personKube,
      keyLabels: labels,
      keyReadyTimeoutMs: 30_000,
      audit: gatewayAudit,
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await personKube?.close();
    await operator?.stop();
    await litellm?.stop();
    const api = KubernetesObjectApi.makeApiClient(kc);
    for (const object of rbac.filter((o) => !o.metadata.namespace)) {
      await api.delete(object).catch(() => {});
    }
    operatorAudit?.close();
    gatewayAudit?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Waits for the key to be Ready with a value it did not have before; records what it saw. */
  async function readyValue(name: string, not?: string) {
    let value = '';
    await expect
      .poll(async () => {
        const key = await objects.getKey(namespace, name);
        seen.push(key);
        if (condition(key) !== 'True/KeyReady') return false;
        value = secretKey(await objects.secret(namespace, key!.status!.secretName!));
        return value !== not && hashKey(value) === key!.status?.keyId;
      }, poll)
      .toBe(true);
    keyValues.add(value);
    return value;
  }

  async function auditRecords(): Promise<(AuditRecord & Record<string, unknown>)[]> {
    const text = await readFile(auditFile, 'utf8');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditRecord & Record<string, unknown>);
  }

  it("records a key's whole life and a self-service key, and no key value appears anywhere", async () => {
    // ---- the operator: create, rotate, old value deleted, suspend, delete
    await objects.key(namespace, 'app', { rotation: { every: '2h', gracePeriod: '1h' } });
    const first = await readyValue('app');
    const uid = (await objects.getKey(namespace, 'app'))!.metadata.uid!;

    clock.offsetMs += 2 * HOUR + 1_000; // past the rotation time
    await objects.patchKey(namespace, 'app', { metadata: { annotations: { nudge: '1' } } });
    const second = await readyValue('app', first);
    clock.offsetMs += HOUR + 1_000; // past the grace period: the first value goes
    await objects.patchKey(namespace, 'app', { metadata: { annotations: { nudge: '2' } } });
    await expect.poll(() => litellm.store.keys.get(hashKey(first)), poll).toBeUndefined();

    await objects.patchKey(namespace, 'app', { spec: { suspended: true } });
    await expect.poll(() => litellm.store.keys.get(hashKey(second))?.blocked, poll).toBe(true);
    seen.push(await objects.getKey(namespace, 'app'));
    await objects.deleteKey(namespace, 'app');
    await expect.poll(() => objects.getKey(namespace, 'app'), poll).toBeUndefined();
    expect(litellmKeysOf(litellm, namespace, 'app')).toHaveLength(0);

    // ---- the gateway: a person creates a key of their own, then revokes it
    const created = await gateway.inject({
      method: 'POST',
      url: '/api/me/keys',
      headers: { [TEST_PRINCIPAL_HEADER]: 'alice' },
      payload: { namespace, name: MINE, models: [MODEL] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const mine = (created.json() as { value: string }).value;
    keyValues.add(mine);
    const mineUid = (await objects.getKey(namespace, MINE))!.metadata.uid!;
    seen.push(await objects.getKey(namespace, MINE));
    const revoked = await gateway.inject({
      method: 'DELETE',
      url: `/api/me/keys/${namespace}/${MINE}`,
      headers: { [TEST_PRINCIPAL_HEADER]: 'alice' },
    });
    expect(revoked.statusCode).toBe(200);
    await expect.poll(() => objects.getKey(namespace, MINE), poll).toBeUndefined();
    expect(litellmKeysOf(litellm, namespace, MINE)).toHaveLength(0);
    expect(keyValues.size).toBe(3);

    // ---- what the trail says
    const records = await auditRecords();
    expect(records.every((r) => r.logType === 'audit')).toBe(true);
    const ofApp = records.filter((r) => r.object?.name === 'app');
    expect(ofApp.map((r) => r.action)).toEqual(
      expect.arrayContaining([
        'litellm.key.create',
        'litellm.key.update',
        'litellm.key.delete',
        'litellm.key.block',
      ]),
    );
    for (const record of ofApp) {
      expect(record).toMatchObject({
        component: 'llm-tenancy-operator',
        actor: { type: 'operator', for: `VirtualKey ${namespace}/app` },
        object: { kind: 'VirtualKey', namespace, name: 'app', uid },
      });
    }
    const creates = ofApp.filter(
      (r) => r.action === 'litellm.key.create' && r.result.outcome === 'ok',
    );
    expect(creates.map((r) => r.litellmId)).toEqual([hashKey(first), hashKey(second)]);
    expect(ofApp).toContainEqual(
      expect.objectContaining({ action: 'litellm.key.delete', litellmId: hashKey(first) }),
    );
    expect(ofApp).toContainEqual(
      expect.objectContaining({ action: 'litellm.key.block', litellmId: hashKey(second) }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({
        action: 'litellm.team.create',
        object: expect.objectContaining({ kind: 'Team', name: namespace }),
      }),
    );

    const selfService = records.filter((r) => r.action.startsWith('selfservice.'));
    expect(selfService).toEqual([
      expect.objectContaining({
        component: 'llm-tenancy-gateway',
        actor: { type: 'person', name: alice, groups: [tenant.group], via: 'session' },
        action: 'selfservice.key.create',
        object: { kind: 'VirtualKey', namespace, name: MINE, uid: mineUid },
        litellmId: hashKey(mine),
        changes: { user: alice, name: MINE, models: [MODEL] },
        result: { outcome: 'ok' },
        kubernetesAuditId: expect.stringMatching(KUBE_AUDIT_ID),
      }),
      expect.objectContaining({
        action: 'selfservice.key.delete',
        object: { kind: 'VirtualKey', namespace, name: MINE, uid: mineUid },
        litellmId: hashKey(mine),
        result: { outcome: 'ok' },
        kubernetesAuditId: expect.stringMatching(KUBE_AUDIT_ID),
      }),
    ]);
    expect(selfService[0]!.kubernetesAuditId).not.toBe(selfService[1]!.kubernetesAuditId);
    // The operator's writes for that key carry the same object: the two programs' records join.
    expect(records).toContainEqual(
      expect.objectContaining({
        action: 'litellm.key.create',
        object: expect.objectContaining({ uid: mineUid }),
        litellmId: hashKey(mine),
      }),
    );

    // Every LiteLLM change is mirrored by an Event on the key it was made for (recorded
    // without waiting, so it may land a moment after the change).
    const eventsOf = async () => (await objects.core.listNamespacedEvent({ namespace })).items;
    await expect
      .poll(
        async () =>
          (await eventsOf()).filter((e) => e.involvedObject.uid === uid).map((e) => e.reason),
        poll,
      )
      .toEqual(expect.arrayContaining(['Minted', 'Rotated', 'Blocked', 'Deleted']));
    const events = { items: await eventsOf() };

    // ---- no key value anywhere the run wrote
    const auditText = await readFile(auditFile, 'utf8');
    const places: Record<string, string> = {
      'audit records': auditText,
      'operator logs': operatorLogs.join('\n'),
      'gateway logs': gatewayLogs.join('\n'),
      events: JSON.stringify(events.items),
      statuses: JSON.stringify(seen),
      teams: JSON.stringify(await objects.teams.get(namespace)),
      metrics: await registry.metrics(),
    };
    expect(operatorLogs.length).toBeGreaterThan(0);
    expect(gatewayLogs.length).toBeGreaterThan(0);
    for (const [place, text] of Object.entries(places)) {
      for (const value of [...keyValues, masterKey]) {
        expect(text.includes(value), `a key value in the ${place}`).toBe(false);
      }
    }
  });
});
