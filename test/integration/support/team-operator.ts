// What the Team and group-sync integration tests share: an operator (a Manager with the Team
// controller, optionally group sync) against the shared API server and a LiteLLM test server
// of the test file's own, scoped by a label so test files running side by side never
// reconcile each other's Teams; and small helpers to create Ready Users, read Teams, and find
// a LiteLLM team.
import { randomBytes } from 'node:crypto';
import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { Team, User } from '../../../crds/api/index.ts';
import { OWNER_KEY } from '../../../operator/src/controllers/shared/ownership.ts';
import { LiteLLMClient, type LiteLLMClientOptions } from '../../../operator/src/litellm/client.ts';
import { setCondition } from '../../../operator/src/runtime/conditions.ts';
import type { Manager } from '../../../operator/src/runtime/manager.ts';
import { ClusterObjects } from './cluster-objects.ts';
import type { LiteLLMTestServer } from '../../litellm-server/server.ts';
import { startInProcessOperator, testOperatorConfig } from './in-process-operator.ts';

export const GROUP = 'llmtenancy.dev';
export const VERSION = 'v1alpha1';
export const TEST_RUN_LABEL = 'llmtenancy.dev/test-run';
export const poll = { timeout: 45_000, interval: 100 };

export const suffix = () => randomBytes(3).toString('hex');

/** A LiteLLM client that gives up fast: tests make LiteLLM fail on purpose. */
export function testLiteLLMClient(
  server: LiteLLMTestServer,
  onWrite?: LiteLLMClientOptions['onWrite'],
): LiteLLMClient {
  return new LiteLLMClient({
    baseUrl: server.url,
    masterKey: server.masterKey,
    timeoutMs: 5_000,
    retry: { initialDelayMs: 20, maxDelayMs: 200 },
    circuitBreaker: { failureThreshold: 5, coolDownMs: 500 },
    ...(onWrite && { onWrite }),
  });
}

export interface TestOperatorOptions {
  kc: KubeConfig;
  litellm: LiteLLMTestServer;
  /** Label selector for the Teams this operator reconciles. */
  teamLabelSelector: string;
  resyncIntervalMs?: number;
  groupGracePeriodMs?: number;
  openShiftGroupsAvailable?: boolean;
  /** Turns group sync's Team-per-Group mode on for Groups matching this selector. */
  groupSyncSelector?: string;
  stopGracePeriodMs?: number;
}

export interface TestOperator {
  manager: Manager;
  running: Promise<void>;
  stop(): Promise<void>;
}

export async function startTestOperator(options: TestOperatorOptions): Promise<TestOperator> {
  const config = testOperatorConfig({
    resyncIntervalMs: options.resyncIntervalMs ?? 2_000,
    groupGracePeriodMs: options.groupGracePeriodMs ?? 60_000,
    // "" selects every Group, as GROUP_SYNC_SELECTOR="*" does.
    groupSyncSelector: options.groupSyncSelector,
  });
  const operator = await startInProcessOperator(config, {
    kubeConfig: options.kc,
    litellm: testLiteLLMClient(options.litellm),
    parts: ['teams', 'group-sync'],
    labelSelectors: { Team: options.teamLabelSelector },
    openShiftGroupsServed: options.openShiftGroupsAvailable ?? false,
    stopGracePeriodMs: options.stopGracePeriodMs,
  });
  return { manager: operator.manager, running: operator.running, stop: () => operator.stop() };
}

/** Typed access to Teams, Users and OpenShift Groups in the shared API server. */
export class Objects {
  readonly api: CustomObjectsApi;
  readonly labels: Record<string, string>;
  readonly teams: ClusterObjects<Team>;

  constructor(kc: KubeConfig, labels: Record<string, string>) {
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.labels = labels;
    this.teams = new ClusterObjects<Team>(this.api, 'Team', 'teams', labels);
  }

  async createTeam(
    name: string,
    spec: Record<string, unknown>,
    metadata: Record<string, unknown> = {},
  ): Promise<Team> {
    return this.teams.create(name, spec, metadata);
  }

  team(name: string): Promise<Team | undefined> {
    return this.teams.get(name);
  }

  /** A JSON merge patch of a Team (null deletes a field). */
  patchTeam(name: string, patch: Record<string, unknown>): Promise<Team> {
    return this.teams.patch(name, patch);
  }

  deleteTeam(name: string): Promise<void> {
    return this.teams.delete(name);
  }

  /** A User whose status says Ready (as the User controller would once it exists in LiteLLM). */
  async createReadyUser(name: string, spec: Record<string, unknown> = {}): Promise<User> {
    const user = (await this.api.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'users',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'User',
        metadata: { name, labels: this.labels },
        spec: { email: `${name}@example.com`, ...spec },
      },
    })) as User;
    return this.setUserReady(user, true);
  }

  async setUserReady(user: User, ready: boolean): Promise<User> {
    return (await this.api.replaceClusterCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      plural: 'users',
      name: user.metadata.name!,
      body: {
        ...user,
        status: {
          ...user.status,
          conditions: setCondition(user.status?.conditions, {
            type: 'Ready',
            status: ready ? 'True' : 'False',
            reason: ready ? 'Synced' : 'NotSynced',
            message: '',
          }),
        },
      },
    })) as User;
  }

  async user(name: string): Promise<User> {
    return (await this.api.getClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'users',
      name,
    })) as User;
  }

  async createGroup(
    name: string,
    users: string[],
    labels: Record<string, string> = {},
  ): Promise<void> {
    await this.api.createClusterCustomObject({
      group: 'user.openshift.io',
      version: 'v1',
      plural: 'groups',
      body: {
        apiVersion: 'user.openshift.io/v1',
        kind: 'Group',
        metadata: { name, labels: { ...this.labels, ...labels } },
        users,
      },
    });
  }

  async setGroupUsers(name: string, users: string[] | null): Promise<void> {
    await this.api.patchClusterCustomObject(
      { group: 'user.openshift.io', version: 'v1', plural: 'groups', name, body: { users } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async deleteGroup(name: string): Promise<void> {
    await this.api.deleteClusterCustomObject({
      group: 'user.openshift.io',
      version: 'v1',
      plural: 'groups',
      name,
    });
  }
}

/** The condition `type` of a Team as a short string for polling: "True/Reconciled". */
export function conditionOf(team: Team | undefined, type: string): string | undefined {
  const c = team?.status?.conditions?.find((x) => x.type === type);
  return c ? `${c.status}/${c.reason}` : undefined;
}

/** Members of a LiteLLM team as "user:role", sorted, without LiteLLM's own default_user_id. */
export function litellmMembers(server: LiteLLMTestServer, teamId: string): string[] | undefined {
  const team = server.store.teams.get(teamId);
  return team?.members_with_roles
    .filter((m) => m.user_id !== 'default_user_id')
    .map((m) => `${m.user_id}:${m.role}`)
    .sort();
}

/** The LiteLLM teams whose metadata names `Team/<name>` as owner. */
export function litellmTeamsOwnedBy(server: LiteLLMTestServer, name: string) {
  return [...server.store.teams.values()].filter((t) => t.metadata[OWNER_KEY] === `Team/${name}`);
}
