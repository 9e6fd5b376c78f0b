// The operator as it is deployed: `node operator/src/main.ts` as a child process configured
// only through its environment, against an API server of this file's own (the operator
// reconciles every User and Team in the cluster, so it must not share one with other test
// files) and a LiteLLM test server. It leads, turns ready, reconciles, publishes the model
// routes for the gateway; SIGTERM stops it cleanly and releases the lease; of two replicas
// only the leader reconciles, and the other takes over when the leader is killed.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import getPort from 'get-port';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, GROUP, VERSION, type User } from '../../crds/api/index.ts';
import { routingKeys } from '../../contracts/routing/redis-layout.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from '../harness/process.ts';
import { startTestBed, type TestBed } from '../harness/test-bed.ts';
import { startLiteLLMServer, type LiteLLMTestServer } from '../litellm-server/server.ts';

const main = fileURLToPath(new URL('../../operator/src/main.ts', import.meta.url));
const poll = { timeout: 60_000, interval: 200 };
const LEASE = 'llm-tenancy-operator';
const LEASE_NAMESPACE = 'default';

interface Operator {
  proc: ManagedProcess;
  name: string;
  healthUrl: string;
}

describe('operator main', () => {
  let bed: TestBed;
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let logDir: string;
  const started: Operator[] = [];

  beforeAll(async () => {
    [bed, litellm, logDir] = await Promise.all([
      startTestBed({ kube: {}, oidc: false }),
      startLiteLLMServer({ masterKey: 'sk-master-operator-main', models: ['granite-3-8b'] }),
      mkdtemp(join(tmpdir(), 'llm-tenancy-operator-main-')),
    ]);
    kc = bed.kubeConfig!;
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((o) => o.proc.stop()));
  });
  afterAll(async () => {
    await Promise.all([bed?.stop(), litellm?.stop()]);
    if (logDir) await rm(logDir, { recursive: true, force: true });
  });

  /** Starts `node operator/src/main.ts` with only the environment a Deployment would give it. */
  async function startOperator(
    name: string,
    extraEnv: Record<string, string> = {},
  ): Promise<Operator> {
    const port = await getPort({ host: '127.0.0.1' });
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: logDir,
      KUBECONFIG: bed.kubeconfigPath!,
      LITELLM_URL: litellm.url,
      LITELLM_MASTER_KEY: litellm.masterKey,
      POD_NAME: name,
      REDIS_URL: bed.redisUrl!,
      GATEWAY_URL: 'http://127.0.0.1:8080/v1',
      LEADER_ELECTION_NAMESPACE: LEASE_NAMESPACE,
      LEADER_ELECTION_LEASE_DURATION: '6s',
      LEADER_ELECTION_RENEW_DEADLINE: '4s',
      LEADER_ELECTION_RETRY_PERIOD: '1s',
      RESYNC_INTERVAL: '1m',
      HEALTH_PORT: String(port),
      ...extraEnv,
    };
    const proc = await startProcess({
      name: `operator ${name}`,
      command: 'env',
      args: ['-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, main],
      logFile: join(logDir, `${name}.log`),
    });
    const operator = { proc, name, healthUrl: `http://127.0.0.1:${port}` };
    started.push(operator);
    await waitUntilReady(
      proc,
      async () => (await fetch(`${operator.healthUrl}/readyz`)).status === 200,
      {
        what: `${operator.healthUrl}/readyz`,
        timeoutMs: 60_000,
        intervalMs: 200,
      },
    );
    return operator;
  }

  const holder = async () => {
    try {
      const lease = await kc
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: LEASE, namespace: LEASE_NAMESPACE });
      return lease.spec?.holderIdentity ?? '';
    } catch {
      return undefined;
    }
  };

  /** The operator named in the lease, or undefined. */
  const leader = async (...operators: Operator[]) => {
    const identity = await holder();
    return operators.find((o) => identity?.startsWith(`${o.name}_`));
  };

  async function createUser(name: string): Promise<void> {
    await kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'users',
      body: { apiVersion: API_VERSION, kind: 'User', metadata: { name }, spec: { role: 'user' } },
    });
  }

  async function readyOf(name: string): Promise<string | undefined> {
    const user = (await kc
      .makeApiClient(CustomObjectsApi)
      .getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'users', name })) as User;
    return user.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  }

  /** controller_runtime_reconcile_total of the user controller, all results summed. */
  async function userReconciles(operator: Operator): Promise<number> {
    const text = await (await fetch(`${operator.healthUrl}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('controller_runtime_reconcile_total{controller="user"'))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
  }

  it('leads, reconciles a User, and on SIGTERM exits 0 and releases the lease', async () => {
    const a = await startOperator('operator-a');
    await expect.poll(() => leader(a), poll).toBe(a);
    expect((await fetch(`${a.healthUrl}/healthz`)).status).toBe(200);

    await createUser('main-alice');
    await expect.poll(() => readyOf('main-alice'), poll).toBe('True');
    expect(litellm.store.users.get('main-alice')).toMatchObject({ user_role: 'internal_user' });

    // The models LiteLLM serves, for the gateway's GET /v1/models (default prefix).
    const redis = new Redis(bed.redisUrl!);
    try {
      await expect
        .poll(async () => JSON.parse((await redis.get(routingKeys().models)) ?? 'null'), poll)
        .toEqual({
          schemaVersion: 1,
          models: { 'granite-3-8b': { provider: 'openai', mode: 'chat' } },
        });
    } finally {
      redis.disconnect();
    }

    await a.proc.stop(30_000);
    expect(await a.proc.exited).toEqual({ code: 0, signal: null });
    expect(await holder()).toBe('');

    // The effective configuration is logged once, without the master key.
    const log = await readFile(a.proc.logFile, 'utf8');
    const lines = log
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const configured = lines.filter((l) => l.msg === 'operator configuration');
    expect(configured).toHaveLength(1);
    expect(configured[0]).toMatchObject({
      config: {
        litellmUrl: litellm.url,
        masterKey: 'from LITELLM_MASTER_KEY',
        orphanCollection: 'dry-run',
      },
    });
    expect(log).not.toContain(litellm.masterKey);
  });

  it('runs controllers on one of two replicas only, and fails over when the leader is killed', async () => {
    const [a, b] = await Promise.all([startOperator('replica-a'), startOperator('replica-b')]);
    await expect.poll(() => leader(a, b), poll).toBeDefined();
    const first = (await leader(a, b))!;
    const second = first === a ? b : a;

    await createUser('main-bob');
    await expect.poll(() => readyOf('main-bob'), poll).toBe('True');
    expect(await userReconciles(first)).toBeGreaterThan(0);
    expect(await userReconciles(second)).toBe(0);

    // Killed, the leader cannot release the lease: the standby takes it once it expires.
    process.kill(first.proc.pid, 'SIGKILL');
    await first.proc.exited;
    await expect.poll(() => leader(a, b), poll).toBe(second);
    await createUser('main-carol');
    await expect.poll(() => readyOf('main-carol'), poll).toBe('True');
    expect(await userReconciles(second)).toBeGreaterThan(0);

    await second.proc.stop(30_000);
    expect(await second.proc.exited).toEqual({ code: 0, signal: null });
  });

  it('exits non-zero with a message naming the problem when the configuration is bad', async () => {
    const proc = await startProcess({
      name: 'operator (bad config)',
      command: 'env',
      args: [
        '-i',
        `PATH=${process.env.PATH ?? ''}`,
        'LITELLM_URL=litellm:4000',
        'RESYNC_INTERVAL=5',
        process.execPath,
        main,
      ],
      logFile: join(logDir, 'bad-config.log'),
    });
    expect((await proc.exited).code).toBe(1);
    const log = (await proc.failure('')).message;
    expect(log).toContain('LITELLM_URL: must be an http(s) URL');
    expect(log).toContain('RESYNC_INTERVAL: "5" is not a duration');
    expect(log).toContain('LITELLM_MASTER_KEY_FILE: is required');
  });
});
