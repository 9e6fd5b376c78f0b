// A person's User at login, as the gateway's own ServiceAccount: created at the first login
// (AUTO_PROVISION), its email, name, groups and role refreshed at every later one, with a
// server-side apply under the field manager `llm-tenancy-gateway` (so an admin's own fields
// stay theirs). The login then waits (bounded: USER_READY_TIMEOUT) on a watch until the User
// controller reports the User Ready for this very spec and lists every Ready Team naming one
// of the person's groups, which means it exists in LiteLLM with its teams: a person is never
// signed in before LiteLLM knows them (the User controller may report a new User Ready once
// before the Team controller has added it to its group's Teams; that is not enough).
// With SIGNIN_AUTO_CREATE_TEAMS, the Teams of the person's groups are created first
// (team-creator.ts) and the login waits for those too, Ready or not yet.
import {
  ApiException,
  type CustomObjectsApi,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  failedWith,
  succeeded,
  type AuditResult,
  type AuditSink,
} from '../../../contracts/audit/audit-record.ts';
import { personRecord } from '../audit/person-audit.ts';
import { userObjectName } from '../../../contracts/identity/user-object-name.ts';
import { API_VERSION, GROUP, VERSION, type Team, type User } from '../../../crds/api/index.ts';
import type { UserRole } from '../../../crds/api/user.ts';
import { pooledCustomObjectsApi } from './kube-api.ts';
import { accountNotReady, loginRefused, kubernetesUnavailable } from './people-errors.ts';
import type { TeamCreator } from './team-creator.ts';

export const FIELD_MANAGER = 'llm-tenancy-gateway';

/** What the identity provider vouched for at this login. */
export interface LoginIdentity {
  issuer: string;
  subject: string;
  login: string;
  email?: string | undefined;
  displayName?: string | undefined;
  groups: readonly string[];
}

export interface UserProvisionerOptions {
  kubeConfig: KubeConfig;
  autoProvision: boolean;
  readyTimeoutMs: number;
  logger: Logger;
  /** Creates the Teams of a person's groups (SIGNIN_AUTO_CREATE_TEAMS); unset: none. */
  teamCreator?: TeamCreator | undefined;
  /** Labels put on Users and Teams the gateway creates (tests scope their operators by one). */
  labels?: Readonly<Record<string, string>>;
  /** Where each User written at a login is recorded. Default: nowhere. */
  audit?: AuditSink | undefined;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const GROUP_NAME = /^\S{1,253}$/;

export class UserProvisioner {
  readonly #kc: KubeConfig;
  readonly #api: CustomObjectsApi;
  readonly #options: UserProvisionerOptions;
  readonly #log: Logger;

  constructor(options: UserProvisionerOptions) {
    this.#kc = options.kubeConfig;
    this.#api = pooledCustomObjectsApi(options.kubeConfig);
    this.#options = options;
    this.#log = options.logger.child({ component: 'user-provisioner' });
  }

  /** Applies the person's User and waits until it is Ready; returns the User's name. */
  async provision(identity: LoginIdentity, role: UserRole): Promise<string> {
    const name = userObjectName(identity.login);
    const existing = await this.#get(name);
    if (existing === undefined && !this.#options.autoProvision) {
      throw loginRefused(
        403,
        'no_account',
        `There is no account for ${identity.login} on this platform yet. Ask a platform admin to create your User.`,
      );
    }
    const known = existing?.spec?.identity;
    if (known && (known.issuer !== identity.issuer || known.subject !== identity.subject)) {
      this.#log.warn(
        { user: name, issuer: identity.issuer },
        'login refused: the User belongs to another identity',
      );
      throw loginRefused(
        403,
        'identity_conflict',
        `The account name ${name} already belongs to another person. Ask a platform admin to sort it out.`,
      );
    }
    const created = (await this.#options.teamCreator?.ensureTeams(identity.groups, name)) ?? [];
    const applied = await this.#apply(name, identity, role, existing === undefined);
    const teams = new Set([...(await this.#teamsNaming(identity.groups)), ...created]);
    await this.#waitReady(name, applied.metadata?.generation ?? 1, [...teams]);
    return name;
  }

  /** The Ready Teams whose spec.groups name one of `groups`: the User must be in each. */
  async #teamsNaming(groups: readonly string[]): Promise<string[]> {
    if (groups.length === 0) return [];
    const mine = new Set(groups);
    try {
      const list = (await this.#api.listClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'teams',
      })) as { items: Team[] };
      return list.items
        .filter((team) => team.spec?.groups?.some((g) => mine.has(g)))
        .filter((team) =>
          team.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        )
        .map((team) => team.metadata.name!);
    } catch (err) {
      throw this.#unavailable(err, 'list teams');
    }
  }

  async #get(name: string): Promise<User | undefined> {
    try {
      return (await this.#api.getClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'users',
        name,
      })) as User;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw this.#unavailable(err, 'read');
    }
  }

  async #apply(
    name: string,
    identity: LoginIdentity,
    role: UserRole,
    creating: boolean,
  ): Promise<User> {
    const groups = [...new Set(identity.groups.filter((g) => GROUP_NAME.test(g)))]
      .sort()
      .slice(0, 256);
    const spec: Record<string, unknown> = {
      role,
      identity: { issuer: identity.issuer, subject: identity.subject },
      groups,
    };
    // What the CRD would refuse is left out rather than failing the login over it.
    if (identity.email && identity.email.length <= 320 && EMAIL.test(identity.email))
      spec.email = identity.email;
    if (identity.displayName) spec.displayName = identity.displayName.slice(0, 256);
    const body = {
      apiVersion: API_VERSION,
      kind: 'User',
      metadata: { name, ...(this.#options.labels && { labels: { ...this.#options.labels } }) },
      spec,
    };
    const record = (result: AuditResult, uid?: string, auditId?: string) =>
      this.#options.audit?.write(
        personRecord(
          { type: 'person', name, groups, via: 'session' },
          {
            action: creating ? 'signin.user.provision' : 'signin.user.update',
            object: { kind: 'User', name, ...(uid && { uid }) },
            changes: spec,
            result,
            ...(auditId && { kubernetesAuditId: auditId }),
          },
        ),
      );
    try {
      const answer = await this.#api.patchClusterCustomObjectWithHttpInfo(
        {
          group: GROUP,
          version: VERSION,
          plural: 'users',
          name,
          body,
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
      const user = answer.data as User;
      record(succeeded, user.metadata?.uid, answer.headers['audit-id']);
      return user;
    } catch (err) {
      const refused = err instanceof ApiException ? err : undefined;
      record(failedWith(refused?.code, 'apply_failed'), undefined, refused?.headers['audit-id']);
      if (err instanceof ApiException && (err.code === 422 || err.code === 409)) {
        this.#log.warn(
          { user: name, status: err.code, body: String(err.body).slice(0, 500) },
          'the User was refused',
        );
        throw loginRefused(
          403,
          'account_refused',
          `Your account ${name} could not be set up: the cluster refused it. Ask a platform admin.`,
        );
      }
      throw this.#unavailable(err, 'apply');
    }
  }

  /** Resolves once the User is Ready for `generation`; throws accountNotReady at the timeout. */
  async #waitReady(name: string, generation: number, teams: readonly string[]): Promise<void> {
    const isReady = (user: User | undefined) =>
      (user?.status?.observedGeneration ?? 0) >= generation &&
      user?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true &&
      teams.every((team) => user.status?.teams?.includes(team));
    /** What the person is told they wait for. */
    const reasonOf = (user: User | undefined) => {
      const ready = user?.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status !== 'True') return ready?.reason ?? 'waiting for the operator';
      const missing = teams.filter((team) => !user?.status?.teams?.includes(team));
      return missing.length > 0 ? `waiting for the teams ${missing.join(', ')}` : 'almost done';
    };
    const deadline = Date.now() + this.#options.readyTimeoutMs;
    let lastReason = 'waiting for the operator';
    while (Date.now() < deadline) {
      // Watched from a fresh read, so a Ready reached before the watch started is seen.
      const user = await this.#get(name);
      if (isReady(user)) return;
      lastReason = reasonOf(user);
      const seen = await this.#watchUntil(name, user?.metadata?.resourceVersion, deadline, (u) => {
        lastReason = reasonOf(u);
        return isReady(u);
      });
      if (seen) return;
    }
    this.#log.warn({ user: name, reason: lastReason }, 'the User was not Ready in time');
    throw accountNotReady(name, lastReason);
  }

  /** Watches the User until `done` holds (true), the deadline passes or the watch ends (false). */
  #watchUntil(
    name: string,
    resourceVersion: string | undefined,
    deadline: number,
    done: (user: User) => boolean,
  ): Promise<boolean> {
    return new Promise((resolve) => {
      let abort: AbortController | undefined;
      let settled = false;
      const finish = (value: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        abort?.abort();
        resolve(value);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()));
      new Watch(this.#kc)
        .watch(
          `/apis/${GROUP}/${VERSION}/users`,
          {
            fieldSelector: `metadata.name=${name}`,
            ...(resourceVersion && { resourceVersion }),
            allowWatchBookmarks: false,
          },
          (phase, object: User) => {
            if ((phase === 'ADDED' || phase === 'MODIFIED') && done(object)) finish(true);
          },
          // The watch ended (an error, a timeout of the server's): the caller reads and watches again.
          () => setTimeout(() => finish(false), 100),
        )
        .then((controller) => {
          abort = controller;
          if (settled) controller.abort();
        })
        .catch(() => setTimeout(() => finish(false), 250));
    });
  }

  #unavailable(err: unknown, what: string) {
    const status = err instanceof ApiException ? err.code : undefined;
    this.#log.error(
      { err: { message: (err as Error).message, status }, what },
      'the Kubernetes API failed at login',
    );
    return kubernetesUnavailable();
  }
}
