// What the User controller and orphan collector integration tests share: an operator (a
// Manager with the User controller, optionally the orphan collector) against the shared API
// server and a LiteLLM test server of the test file's own, scoped by a label so test files
// running side by side never reconcile each other's objects; and typed access to Users.
import { randomBytes } from 'node:crypto';
import { CustomObjectsApi, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { API_VERSION, GROUP, VERSION, type Team, type User } from '../../../crds/api/index.ts';
import { orphanCollector } from '../../../operator/src/controllers/orphans/controller.ts';
import type { OrphanCollectionMode } from '../../../operator/src/controllers/orphans/orphan-collector.ts';
import { userController } from '../../../operator/src/controllers/user/controller.ts';
import { LiteLLMClient } from '../../../operator/src/litellm/client.ts';
import { EventRecorder } from '../../../operator/src/runtime/events.ts';
import { Manager } from '../../../operator/src/runtime/manager.ts';
import { ClusterObjects } from './cluster-objects.ts';
import type { LiteLLMTestServer } from '../../litellm-server/server.ts';
import { TEST_INSTALLATION_ID } from './installation.ts';

export const TEST_RUN_LABEL = 'llmtenancy.dev/test-run';
export const poll = { timeout: 45_000, interval: 100 };
export const suffix = () => randomBytes(3).toString('hex');

/** A LiteLLM client that gives up fast: tests make LiteLLM fail on purpose. */
export function fastLiteLLMClient(server: LiteLLMTestServer, timeoutMs = 5_000): LiteLLMClient {
  return new LiteLLMClient({
    baseUrl: server.url,
    masterKey: server.masterKey,
    timeoutMs,
    retry: { initialDelayMs: 20, maxDelayMs: 200 },
    circuitBreaker: { failureThreshold: 5, coolDownMs: 500 },
  });
}

export interface UserOperatorOptions {
  kc: KubeConfig;
  litellm: LiteLLMTestServer;
  /** The Users, Teams (and orphan owners) this operator sees, e.g. `llmtenancy.dev/test-run=x`. */
  labelSelector: string;
  resyncIntervalMs?: number;
  /** Add the orphan collector in this mode. */
  orphans?: { mode: OrphanCollectionMode; intervalMs: number };
  litellmTimeoutMs?: number;
  /** Stamped into LiteLLM objects. Default TEST_INSTALLATION_ID. */
  installationId?: string;
}

export interface UserOperator {
  manager: Manager;
  registry: Registry;
  stop(): Promise<void>;
}

export async function startUserOperator(options: UserOperatorOptions): Promise<UserOperator> {
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const registry = new Registry();
  const manager = new Manager({
    kubeConfig: options.kc,
    leaderElection: false,
    healthPort: false,
    handleSignals: false,
    logger,
    registry,
  });
  const litellm = fastLiteLLMClient(options.litellm, options.litellmTimeoutMs);
  const installationId = options.installationId ?? TEST_INSTALLATION_ID;
  manager.addController(
    userController({
      kube: manager.kube,
      informers: manager.informers,
      litellm,
      logger,
      recorder: new EventRecorder(manager.kube, {
        reportingController: 'llmtenancy.dev/operator',
        logger,
      }),
      resyncIntervalMs: options.resyncIntervalMs ?? 60_000,
      labelSelector: options.labelSelector,
      installationId,
    }),
  );
  if (options.orphans) {
    orphanCollector({
      manager,
      litellm,
      mode: options.orphans.mode,
      installationId,
      intervalMs: options.orphans.intervalMs,
      labelSelector: options.labelSelector,
    });
  }
  const running = manager.start();
  running.catch(() => {});
  const deadline = Date.now() + 30_000;
  while (!manager.readiness().ready) {
    if (Date.now() > deadline)
      throw new Error(`operator not ready: ${manager.readiness().reasons.join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { manager, registry, stop: () => manager.stop() };
}

/** Users and Teams in the shared API server, carrying the test run's labels. */
export class Objects {
  readonly api: CustomObjectsApi;
  readonly events: EventsV1Api;
  readonly labels: Record<string, string>;
  readonly users: ClusterObjects<User>;

  constructor(kc: KubeConfig, labels: Record<string, string>) {
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.events = kc.makeApiClient(EventsV1Api);
    this.labels = labels;
    this.users = new ClusterObjects<User>(this.api, 'User', 'users', labels);
  }

  createUser(
    name: string,
    spec: Record<string, unknown>,
    metadata: Record<string, unknown> = {},
  ): Promise<User> {
    return this.users.create(name, spec, metadata);
  }

  user(name: string): Promise<User | undefined> {
    return this.users.get(name);
  }

  /** A JSON merge patch of a User (null deletes a field). */
  patchUser(name: string, patch: Record<string, unknown>): Promise<User> {
    return this.users.patch(name, patch);
  }

  deleteUser(name: string): Promise<void> {
    return this.users.delete(name);
  }

  /** A Team whose status lists `members`, as the Team controller would write it. */
  async createTeamWithMembers(name: string, members: string[]): Promise<Team> {
    const spec = { members: members.map((user) => ({ user })) };
    const team = (await this.api.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'teams',
      body: {
        apiVersion: API_VERSION,
        kind: 'Team',
        metadata: { name, labels: this.labels },
        spec,
      },
    })) as Team;
    return this.setTeamMembers(team, members);
  }

  async setTeamMembers(team: Team, members: string[]): Promise<Team> {
    const current = (await this.api.getClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'teams',
      name: team.metadata.name!,
    })) as Team;
    return (await this.api.replaceClusterCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      plural: 'teams',
      name: team.metadata.name!,
      body: {
        ...current,
        status: {
          ...current.status,
          members: members.map((user) => ({ user, role: 'member', source: 'spec' })),
          memberCount: members.length,
        },
      },
    })) as Team;
  }

  deleteTeam(name: string): Promise<void> {
    return new ClusterObjects<Team>(this.api, 'Team', 'teams', this.labels).delete(name);
  }

  /** Reasons of the Events about a cluster-scoped object (they live in "default"). */
  async eventReasons(name: string): Promise<string[]> {
    const list = await this.events.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: `regarding.name=${name}`,
    });
    return list.items.map((e) => e.reason ?? '');
  }
}

/** The condition `type` as "Status/Reason", for polling. */
export function conditionOf(object: User | Team | undefined, type: string): string | undefined {
  const c = object?.status?.conditions?.find((x) => x.type === type);
  return c ? `${c.status}/${c.reason}` : undefined;
}
