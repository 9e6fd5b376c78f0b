// The self-service API under /api: what a signed-in person (or the master key) may see and do
// about their teams, models and keys. Every Kubernetes call is made as the principal through
// impersonation (PersonKube), so the cluster's RBAC and admission policies decide; this
// plugin adds only what RBAC cannot express (a key is revoked here only by its own person).
// Register it inside the sign-in plugin's scope, which sets request.principal and checks
// CSRF on state-changing calls of cookie sessions. Errors are OpenAI-shaped.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  noAudit,
  succeeded,
  type AuditResult,
  type AuditSink,
} from '../../../contracts/audit/audit-record.ts';
import { hashKey } from '../../../contracts/routing/key-hash.ts';
import type { VirtualKey } from '../../../crds/api/index.ts';
import { personRecord, refusedWith } from '../audit/person-audit.ts';
import { OpenAIError } from '../errors/openai-error.ts';
import type { KubeAsPerson, PersonKube } from '../kube/person-kube.ts';
import type { Principal } from '../signin/principal.ts';
import { callerGone } from './caller-gone.ts';
import { createMyKey } from './create-key.ts';
import { myModels } from './my-models.ts';
import { myTeams, namespacesOf } from './my-teams.ts';
import { CreateKeyBody, KeyParams, parseBody } from './request-bodies.ts';
import {
  adminOnly,
  fromKubeFailure,
  isForbidden,
  isNotFound,
  notAPerson,
  notYourKey,
  signInFirst,
} from './self-service-errors.ts';
import { keySummary, teamSummary, userSummary } from './summaries.ts';
import type { LiteLLMActivity } from '../usage/litellm-activity.ts';
import { registerUsageRoute } from '../usage/usage-route.ts';

export interface SelfServiceOptions {
  kube: PersonKube;
  /** How long POST /api/me/keys waits for the key to be Ready and in its Secret. Default 20 s. */
  keyReadyTimeoutMs?: number;
  /** Extra labels on every key created here (e.g. for an operator's label selector). */
  keyLabels?: Readonly<Record<string, string>>;
  /** LiteLLM's spend analytics, for GET /api/usage; without it the route is not served. */
  activity?: LiteLLMActivity;
  /** The clock /api/usage counts "since=30d" back from. */
  now?: () => Date;
  /** Where key creations and revocations are recorded. Default: nowhere. */
  audit?: AuditSink;
}

export async function selfServicePlugin(
  app: FastifyInstance,
  options: SelfServiceOptions,
): Promise<void> {
  const readyTimeoutMs = options.keyReadyTimeoutMs ?? 20_000;
  const labels = options.keyLabels ?? {};
  const audit = options.audit ?? noAudit;

  // Personal data, and once a key value: no cache anywhere may keep an answer.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  app.setErrorHandler((error, request, reply) => {
    const refusal = toRefusal(error, request);
    return reply.code(refusal.statusCode).headers(refusal.headers).send(refusal.toBody());
  });

  /** The principal and a client acting as them; 401 when nobody is signed in. */
  function caller(request: FastifyRequest): { principal: Principal; kube: KubeAsPerson } {
    const principal = request.principal;
    if (!principal) throw signInFirst();
    return { principal, kube: options.kube.as(principal.impersonation) };
  }

  if (options.activity) {
    registerUsageRoute(app, {
      activity: options.activity,
      caller,
      ...(options.now && { now: options.now }),
    });
  }

  app.get('/api/me', async (request) => {
    const { principal, kube } = caller(request);
    const [user, teams, kubernetes] = await Promise.all([
      myUser(kube, principal.userName),
      myTeams(kube, principal).catch((err: unknown) => {
        throw fromKubeFailure(err, 'list your teams');
      }),
      kube.whoAmI().catch((err: unknown) => {
        throw fromKubeFailure(err, 'ask Kubernetes who you are');
      }),
    ]);
    return {
      via: principal.via,
      login: principal.login,
      userName: principal.userName || null,
      role: principal.role,
      user: user.user,
      teams: teams.teams.map(({ team, role }) => ({ ...teamSummary(team), role })),
      kubernetes: { username: kubernetes.username, groups: kubernetes.groups },
      warnings: [...user.warnings, ...teams.warnings],
      // Whether GET /api/usage is served (it needs LiteLLM's master key), so the page asks only then.
      usage: options.activity !== undefined,
    };
  });

  app.get('/api/me/keys', async (request) => {
    const { principal, kube } = caller(request);
    if (!principal.userName) return { keys: [], warnings: [notAPerson().message] };
    try {
      const teams = await myTeams(kube, principal);
      const warnings = [...teams.warnings];
      const perNamespace = await Promise.all(
        namespacesOf(teams.teams).map((namespace) =>
          kube.listVirtualKeys(namespace).then(
            (list) => list.items.filter((key) => key.spec.user === principal.userName),
            (err: unknown) => {
              if (!isForbidden(err)) throw err;
              warnings.push(
                `Kubernetes RBAC does not let you list VirtualKeys in ${namespace}: ${err.message}`,
              );
              return [];
            },
          ),
        ),
      );
      return { keys: perNamespace.flat().map(keySummary), warnings };
    } catch (err) {
      throw fromKubeFailure(err, 'list your keys');
    }
  });

  app.post('/api/me/keys', async (request, reply) => {
    const { principal, kube } = caller(request);
    const body = parseBody(CreateKeyBody, request.body);
    if (!principal.userName) throw notAPerson();
    const { namespace, ...changes } = body;
    const record = (result: AuditResult, litellmId?: string) => {
      const written = kube.lastWrite;
      const name = written?.name ?? body.name;
      audit.write(
        personRecord(principal, {
          action: 'selfservice.key.create',
          object: { kind: 'VirtualKey', namespace, name: name ?? '', uid: written?.uid },
          ...(litellmId && { litellmId }),
          changes: { user: principal.userName, ...changes },
          result,
          kubernetesAuditId: written?.auditId,
        }),
      );
    };
    try {
      const created = await createMyKey(kube, principal, body, {
        readyTimeoutMs,
        labels,
        signal: callerGone(reply),
      });
      record(succeeded, created.value === null ? undefined : hashKey(created.value));
      return reply.code(created.value === null ? 202 : 201).send(created);
    } catch (err) {
      throw recordedRefusal(err, `create a VirtualKey in namespace ${body.namespace}`, record);
    }
  });

  app.delete('/api/me/keys/:namespace/:name', async (request) => {
    const { principal, kube } = caller(request);
    const { namespace, name } = parseBody(KeyParams, request.params);
    if (!principal.userName) throw notAPerson();
    let key: VirtualKey | undefined;
    const record = (result: AuditResult) =>
      audit.write(
        personRecord(principal, {
          action: 'selfservice.key.delete',
          object: { kind: 'VirtualKey', namespace, name, uid: key?.metadata.uid },
          ...(key?.status?.keyId && { litellmId: key.status.keyId }),
          result,
          kubernetesAuditId: kube.lastWrite?.auditId,
        }),
      );
    try {
      key = await kube.getVirtualKey(namespace, name);
      // RBAC lets a team member delete any key of the namespace; here only one's own.
      if (key.spec.user !== principal.userName) throw notYourKey(namespace, name);
      await kube.deleteVirtualKey(namespace, name, key.metadata.uid!);
      record(succeeded);
      return { namespace, name, deleted: true };
    } catch (err) {
      throw recordedRefusal(err, `revoke VirtualKey ${namespace}/${name}`, record);
    }
  });

  app.get('/api/models', async (request) => {
    const { principal, kube } = caller(request);
    try {
      const teams = await myTeams(kube, principal);
      const models = await myModels(kube, teams.teams);
      return { teams: models.teams, warnings: [...teams.warnings, ...models.warnings] };
    } catch (err) {
      throw fromKubeFailure(err, 'list your models');
    }
  });

  /** Admin reads: still made as the principal, so RBAC decides what an admin sees. */
  function admin(request: FastifyRequest): KubeAsPerson {
    const { principal, kube } = caller(request);
    if (principal.role !== 'admin') throw adminOnly();
    return kube;
  }

  app.get('/api/admin/teams', async (request) => {
    const kube = admin(request);
    const list = await kube.listTeams().catch((err: unknown) => {
      throw fromKubeFailure(err, 'list Teams');
    });
    return { teams: list.items.map(teamSummary) };
  });

  app.get('/api/admin/users', async (request) => {
    const kube = admin(request);
    const list = await kube.listUsers().catch((err: unknown) => {
      throw fromKubeFailure(err, 'list Users');
    });
    return { users: list.items.map(userSummary) };
  });

  app.get('/api/admin/keys', async (request) => {
    const kube = admin(request);
    const list = await kube.listVirtualKeys(undefined).catch((err: unknown) => {
      throw fromKubeFailure(err, 'list VirtualKeys in all namespaces');
    });
    return { keys: list.items.map(keySummary) };
  });
}

/** The person's User, or why it cannot be shown; none for the master key. */
async function myUser(
  kube: KubeAsPerson,
  userName: string,
): Promise<{ user: ReturnType<typeof userSummary> | null; warnings: string[] }> {
  if (!userName) return { user: null, warnings: [] };
  try {
    return { user: userSummary(await kube.getUser(userName)), warnings: [] };
  } catch (err) {
    if (isNotFound(err))
      return { user: null, warnings: [`Your User ${userName} does not exist (yet).`] };
    if (isForbidden(err)) {
      return {
        user: null,
        warnings: [`Kubernetes RBAC does not let you read your User: ${err.message}`],
      };
    }
    throw fromKubeFailure(err, 'read your User');
  }
}

/** What the person is told of `err` (an error not of Kubernetes as it is), recorded first. */
function recordedRefusal(err: unknown, doing: string, record: (result: AuditResult) => void) {
  let refusal = err;
  try {
    refusal = fromKubeFailure(err, doing);
  } catch {
    // Not a Kubernetes failure: the error handler answers it.
  }
  record(refusedWith(refusal));
  return refusal;
}

function toRefusal(error: unknown, request: FastifyRequest): OpenAIError {
  if (error instanceof OpenAIError) return error;
  const fastifyError = error as { statusCode?: number; message?: string };
  if (fastifyError.statusCode && fastifyError.statusCode < 500) {
    // fastify's own refusals: a body that is not JSON, a wrong content-type.
    return new OpenAIError({
      status: fastifyError.statusCode,
      type: 'invalid_request_error',
      reason: 'invalid_request',
      message: fastifyError.message ?? 'Invalid request.',
    });
  }
  try {
    return fromKubeFailure(error, 'answer');
  } catch {
    request.log.error({ err: error }, 'self-service request failed');
    return new OpenAIError({
      status: 500,
      type: 'internal_server_error',
      reason: 'internal_error',
      message: 'The gateway failed to handle this request.',
    });
  }
}
