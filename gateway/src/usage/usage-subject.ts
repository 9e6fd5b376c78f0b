// Whose usage /api/usage may show, decided by the cluster before LiteLLM is asked: every read
// below is made as the person (impersonation), so RBAC answers as for their own kubectl.
//
//   key   the person can `get` the VirtualKey (RBAC on the team's namespace).
//   team  the person can `get` the Team, and `list` VirtualKeys in every namespace of it (in
//         every namespace, for a Team without any): a team's spend is the spend of all its
//         keys. Reading Teams alone is not enough: the tenant view role lets any tenant read
//         every Team.
//   user  their own User; anyone else's only with `list` VirtualKeys in all namespaces (an
//         admin), for the same reason.
//
// Then: which LiteLLM analytics to read (the ids the operator pinned in status) and the
// object's budget, for the chart.
import { z } from 'zod';
import type { BudgetStatus } from '../../../crds/api/meta.ts';
import { dnsLabel, objectName } from '../../../crds/api/meta.ts';
import { OpenAIError } from '../errors/openai-error.ts';
import type { KubeAsPerson } from '../kube/person-kube.ts';
import type { Principal } from '../signin/principal.ts';
import { notAPerson } from '../self-service/self-service-errors.ts';
import type { ActivityRead } from './litellm-activity.ts';

/** The longest range one request reads (LiteLLM bounds its unpaginated variant the same). */
export const MAX_RANGE_DAYS = 400;

const DAYS = /^(\d{1,3})d$/;

export const UsageQuery = z
  .object({
    scope: z.enum(['team', 'user', 'key']),
    name: objectName('The Team, User or VirtualKey; for scope=user, default yourself.').optional(),
    namespace: dnsLabel("The VirtualKey's namespace (scope=key).").optional(),
    since: z
      .union([z.string().regex(DAYS, 'a number of days like 30d'), z.iso.date()])
      .default('30d'),
    until: z.iso.date().optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();
export type UsageQuery = z.output<typeof UsageQuery>;

/** The UTC days to read: `since` days back including today, or from a date; until today. */
export function usageRange(query: UsageQuery, now: Date): { since: string; until: string } {
  const until = query.until ?? now.toISOString().slice(0, 10);
  const days = DAYS.exec(query.since);
  const since = days
    ? new Date(Date.parse(`${until}T00:00:00Z`) - (Number(days[1]) - 1) * 86_400_000)
        .toISOString()
        .slice(0, 10)
    : query.since;
  const span = (Date.parse(until) - Date.parse(since)) / 86_400_000 + 1;
  if (span < 1) throw badRange('since must be on or before until');
  if (span > MAX_RANGE_DAYS) throw badRange(`at most ${MAX_RANGE_DAYS} days at a time`);
  return { since, until };
}

export interface UsageSubject {
  scope: UsageQuery['scope'];
  name: string;
  namespace?: string;
  /** What to read from LiteLLM; none for a key LiteLLM never had. */
  reads: ActivityRead[];
  /** The object's spend and budget (status), for spend against budget. */
  budget: (Partial<BudgetStatus> & { spend?: string }) | null;
}

export async function authorizedSubject(
  kube: KubeAsPerson,
  principal: Principal,
  query: UsageQuery,
): Promise<UsageSubject> {
  switch (query.scope) {
    case 'key': {
      if (!query.namespace) throw missing('namespace', 'scope=key needs the key’s namespace');
      if (!query.name) throw missing('name', 'scope=key needs the VirtualKey’s name');
      const key = await kube.getVirtualKey(query.namespace, query.name);
      // The key's spend is under its hash; a rotated key's previous hash keeps its history.
      const hashes = [key.status?.keyId, key.status?.previousKey?.keyId].filter(
        (hash): hash is string => !!hash,
      );
      return {
        scope: 'key',
        name: query.name,
        namespace: query.namespace,
        reads: [...new Set(hashes)].map((api_key) => ({
          endpoint: 'teamDailyActivity' as const,
          query: { api_key },
        })),
        budget: budgetOf(key.status),
      };
    }
    case 'team': {
      if (!query.name) throw missing('name', 'scope=team needs the Team’s name');
      const team = await kube.getTeam(query.name);
      const namespaces = team.spec.namespaces ?? [];
      const allowed = namespaces.length
        ? (await Promise.all(namespaces.map((ns) => kube.can('list', 'virtualkeys', ns)))).every(
            Boolean,
          )
        : await kube.can('list', 'virtualkeys', undefined);
      if (!allowed) {
        throw notAllowed(
          `Kubernetes RBAC does not let you list the VirtualKeys of Team ${query.name} (${namespaces.length ? `namespaces ${namespaces.join(', ')}` : 'in all namespaces'}): a team's usage is the usage of all its keys.`,
        );
      }
      return {
        scope: 'team',
        name: query.name,
        reads: [
          {
            endpoint: 'teamDailyActivity',
            query: { team_ids: team.status?.teamId ?? query.name },
          },
        ],
        budget: budgetOf(team.status),
      };
    }
    case 'user': {
      const name = query.name ?? principal.userName;
      if (!name) throw notAPerson();
      const user = await kube.getUser(name);
      if (name !== principal.userName && !(await kube.can('list', 'virtualkeys', undefined))) {
        throw notAllowed(
          `Another person's usage needs Kubernetes RBAC to list VirtualKeys in all namespaces (an admin's); you may read your own (scope=user without a name).`,
        );
      }
      return {
        scope: 'user',
        name,
        reads: [{ endpoint: 'userDailyActivity', query: { user_id: user.status?.userId ?? name } }],
        budget: budgetOf(user.status),
      };
    }
  }
}

function budgetOf(
  status: { spend?: string | undefined; budget?: BudgetStatus | undefined } | undefined,
): UsageSubject['budget'] {
  if (!status?.spend && !status?.budget) return null;
  const { alertsSent: _alerts, ...budget } = status.budget ?? {};
  return { ...(status.spend !== undefined && { spend: status.spend }), ...budget };
}

const badRange = (message: string) =>
  new OpenAIError({
    status: 400,
    type: 'invalid_request_error',
    reason: 'invalid_range',
    param: 'since',
    message: `since/until: ${message}`,
  });

const missing = (param: string, message: string) =>
  new OpenAIError({
    status: 400,
    type: 'invalid_request_error',
    reason: 'invalid_query',
    param,
    message,
  });

const notAllowed = (message: string) =>
  new OpenAIError({ status: 403, type: 'permission_error', reason: 'usage_not_allowed', message });
