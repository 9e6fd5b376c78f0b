// The Teams a login creates (SIGNIN_AUTO_CREATE_TEAMS, as the seed's auto_create_teams): one
// per group of the person's matching SIGNIN_TEAM_GROUPS that has no Team yet, named by the
// group → Team name rule group sync uses (contracts/identity/team-object-name.ts), with
// spec.groups: [group] so the Team controller's group membership puts the person in it.
//
// A plain create, as the gateway's own ServiceAccount, never an apply: a Team of that name a
// platform admin wrote is never taken over or changed (409 AlreadyExists leaves it alone).
// The Team owns no namespace: a namespace may belong to one Team only and the gateway creates
// none, so a platform admin gives the Team its namespaces (and models, limits) afterwards.
import { ApiException, type CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  failedWith,
  succeeded,
  type AuditResult,
  type AuditSink,
} from '../../../contracts/audit/audit-record.ts';
import { teamNameForGroup } from '../../../contracts/identity/team-object-name.ts';
import { API_VERSION, GROUP, VERSION, type Team } from '../../../crds/api/index.ts';
import { personRecord } from '../audit/person-audit.ts';
import { pooledCustomObjectsApi } from './kube-api.ts';
import { matchesTeamGroups, type TeamGroupPatterns } from './team-group-patterns.ts';

/** Marks a Team created at a login. */
export const CREATED_BY_LABEL = 'llmtenancy.dev/created-by';
export const CREATED_BY_SIGNIN = 'signin';
/** The exact group a sign-in Team was created for (the same annotation group sync sets). */
export const GROUP_NAME_ANNOTATION = 'llmtenancy.dev/group-name';

/** What Team.spec.groups accepts (crds/api/team.ts); other group names get no Team. */
const TEAM_GROUP_NAME = /^\S{1,253}$/;

export interface TeamCreatorOptions {
  kubeConfig: KubeConfig;
  groups: TeamGroupPatterns;
  fieldManager: string;
  logger: Logger;
  /** Labels put on the Teams it creates, beside CREATED_BY_LABEL. */
  labels?: Readonly<Record<string, string>> | undefined;
  audit?: AuditSink | undefined;
}

export class TeamCreator {
  readonly #api: CustomObjectsApi;
  readonly #options: TeamCreatorOptions;
  readonly #log: Logger;

  constructor(options: TeamCreatorOptions) {
    this.#api = pooledCustomObjectsApi(options.kubeConfig);
    this.#options = options;
    this.#log = options.logger.child({ component: 'team-creator' });
  }

  /**
   * Creates the missing Teams of `groups` for the User `userName`; returns the names of the
   * sign-in Teams of those groups (created now or by an earlier login), which the login waits
   * for. Never throws: a Team that cannot be made is logged and the login goes on without it.
   */
  async ensureTeams(groups: readonly string[], userName: string): Promise<string[]> {
    const wanted = [...new Set(groups)].filter((g) => matchesTeamGroups(g, this.#options.groups));
    const names = await Promise.all(wanted.map((group) => this.#ensure(group, userName, groups)));
    return names.filter((n): n is string => n !== undefined);
  }

  async #ensure(
    group: string,
    userName: string,
    groups: readonly string[],
  ): Promise<string | undefined> {
    const name = teamNameForGroup(group);
    if (!TEAM_GROUP_NAME.test(group)) {
      this.#log.warn(
        { group: group.slice(0, 80), length: group.length },
        'no Team for this group: a Team cannot name it in spec.groups (no spaces, at most 253 characters)',
      );
      return undefined;
    }
    const body = {
      apiVersion: API_VERSION,
      kind: 'Team',
      metadata: {
        name,
        labels: { ...this.#options.labels, [CREATED_BY_LABEL]: CREATED_BY_SIGNIN },
        annotations: { [GROUP_NAME_ANNOTATION]: group },
      },
      spec: { groups: [group] },
    };
    const record = (result: AuditResult, uid?: string, auditId?: string) =>
      this.#options.audit?.write(
        personRecord(
          { type: 'person', name: userName, groups: [...groups], via: 'session' },
          {
            action: 'signin.team.create',
            object: { kind: 'Team', name, ...(uid && { uid }) },
            changes: { groups: [group] },
            result,
            ...(auditId && { kubernetesAuditId: auditId }),
          },
        ),
      );
    try {
      const answer = await this.#api.createClusterCustomObjectWithHttpInfo({
        group: GROUP,
        version: VERSION,
        plural: 'teams',
        body,
        fieldManager: this.#options.fieldManager,
      });
      const team = answer.data as Team;
      record(succeeded, team.metadata?.uid, answer.headers['audit-id']);
      this.#log.info({ team: name, group }, 'created a Team for a group at a login');
      return name;
    } catch (err) {
      const status = err instanceof ApiException ? err.code : undefined;
      if (status === 409) return this.#existing(name, group);
      record(
        failedWith(status, 'create_failed'),
        undefined,
        err instanceof ApiException ? err.headers['audit-id'] : undefined,
      );
      this.#log.error(
        {
          team: name,
          group,
          status,
          ...(status === 403 && { hint: 'the gateway needs create on teams.llmtenancy.dev' }),
          body:
            err instanceof ApiException ? String(err.body).slice(0, 500) : (err as Error).message,
        },
        'could not create the Team of a group at a login; the login goes on without it',
      );
      return undefined;
    }
  }

  /** The Team exists: waited for only when a login made it for this very group. */
  async #existing(name: string, group: string): Promise<string | undefined> {
    try {
      const team = (await this.#api.getClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'teams',
        name,
      })) as Team;
      const ours =
        team.metadata.labels?.[CREATED_BY_LABEL] === CREATED_BY_SIGNIN &&
        team.metadata.annotations?.[GROUP_NAME_ANNOTATION] === group &&
        (team.spec?.groups ?? []).includes(group) &&
        team.metadata.deletionTimestamp === undefined;
      if (!ours)
        this.#log.debug({ team: name, group }, 'a Team of this name exists; it is left alone');
      return ours ? name : undefined;
    } catch {
      return undefined;
    }
  }
}
