// kubectl llm usage: spend and tokens over time for a Team, a User or a VirtualKey, from the
// gateway's GET /api/usage (LiteLLM's daily spend analytics), with the token of kubectl llm
// login. The gateway asks the cluster, as you, whether you may see that object, so RBAC
// decides here exactly as for kubectl get.
import type { Command } from '../command.ts';
import { CliError, UsageError } from '../errors.ts';
import {
  cachedToken,
  callGateway,
  errorMessage,
  gatewayFlag,
  gatewayTarget,
  sessionEnded,
  type GatewayTarget,
} from '../gateway/gateway-client.ts';
import { serialize } from '../output/print.ts';
import type { UsageAnswer } from '../../contracts/usage/usage-answer.ts';
import { renderUsage, subjectOf } from '../usage-view.ts';

type Scope = UsageAnswer['scope'];

export const usage: Command = {
  name: 'usage',
  summary: 'Show spend and tokens per day and model of a Team, User or key, against its budget.',
  usage:
    '[--team NAME | --user [NAME] | --key NAME [-n NAMESPACE]] [--since 30d|DATE] [--until DATE] [--csv] [-o table|wide|json|yaml] [flags]',
  description:
    "Without --team, --user or --key it shows your own User. Days are UTC; --since is a number of days back (today included) or a date YYYY-MM-DD, --until a date (default today), at most 400 days. The budget line is the object's current budget period (status.spend), which a reset zeroes, while the days add up everything spent. -o wide adds prompt and completion tokens and each day's models; --csv prints the gateway's CSV (a row per day and model). Needs kubectl llm login, and a gateway that holds LiteLLM's master key.",
  examples: [
    'kubectl llm usage',
    'kubectl llm usage --team ml-research --since 7d',
    'kubectl llm usage --key chatbot -n ml-research -o json',
    'kubectl llm usage --team ml-research --since 2026-11-01 --until 2026-11-30 --csv > november.csv',
  ],
  flags: {
    team: { type: 'string', value: 'NAME', help: 'A Team: the usage of all its keys.' },
    user: {
      type: 'string',
      value: 'NAME',
      help: "A User (default: yours). Another person's needs an admin's RBAC.",
    },
    key: { type: 'string', value: 'NAME', help: 'A VirtualKey, in -n NAMESPACE.' },
    since: {
      type: 'string',
      value: '30d|DATE',
      help: 'From this many days back, or from a date YYYY-MM-DD (default 30d).',
    },
    until: { type: 'string', value: 'DATE', help: 'Up to this date YYYY-MM-DD (default today).' },
    csv: { type: 'boolean', help: 'Print CSV: a header row, then a row per day and model.' },
    ...gatewayFlag,
  },
  async run(ctx) {
    const format = ctx.global.output;
    if (format === 'name') throw new UsageError('usage prints a table, wide, json or yaml');
    const csv = ctx.values.csv === true;
    if (csv && format !== 'table') throw new UsageError('--csv and -o do not go together');
    const query = usageQuery(ctx.values, () => ctx.connection().namespace);
    const target = gatewayTarget(ctx);
    const cached = cachedToken(target);
    if (csv) query.set('format', 'csv');
    const answer = await callGateway(target, `/api/usage?${query}`, {
      token: cached.token,
      ...(csv && { accept: 'text/csv' }),
    });
    if (answer.status === 404 && !(await servesUsage(target, cached.token))) {
      throw new CliError(
        `${target.base} does not serve usage: the gateway answers GET /api/usage only when it holds LiteLLM's master key (LITELLM_MASTER_KEY_FILE; the chart's gateway.masterKeyAccess)`,
      );
    }
    if (answer.status !== 200) throw usageFailure(target, query, answer.status, answer.body);
    if (csv) {
      ctx.io.out(answer.text);
      return;
    }
    const report = answer.body as UsageAnswer;
    if (format === 'json' || format === 'yaml') {
      ctx.io.out(serialize(report, format));
      return;
    }
    ctx.io.out(renderUsage(report, format === 'wide'));
  },
};

/** The query of GET /api/usage for the flags; a UsageError for flags that contradict. */
export function usageQuery(
  values: Record<string, string | boolean | string[] | undefined>,
  namespace: () => string,
): URLSearchParams {
  const chosen = (['team', 'user', 'key'] as const).filter((s) => values[s] !== undefined);
  if (chosen.length > 1) {
    throw new UsageError(`choose one of --team, --user and --key, not ${chosen.join(' and ')}`);
  }
  const scope: Scope = chosen[0] ?? 'user';
  const query = new URLSearchParams({ scope });
  const name = values[scope] as string | undefined;
  if (name !== undefined) {
    if (name === '') throw new UsageError(`--${scope} needs a name`);
    query.set('name', name);
  }
  if (scope === 'key') query.set('namespace', namespace());
  for (const flag of ['since', 'until'] as const) {
    const value = values[flag] as string | undefined;
    if (value !== undefined) query.set(flag, value);
  }
  return query;
}

/**
 * Whether the gateway serves GET /api/usage at all, as GET /api/me says: a 404 is then about
 * the object asked for, not the route.
 */
async function servesUsage(target: GatewayTarget, token: string): Promise<boolean> {
  const me = await callGateway(target, '/api/me', { token });
  return (me.body as { usage?: boolean } | undefined)?.usage !== false;
}

function usageFailure(
  target: GatewayTarget,
  query: URLSearchParams,
  status: number,
  body: unknown,
): CliError {
  const name = query.get('name');
  const namespace = query.get('namespace');
  const what =
    name === null
      ? 'your User'
      : subjectOf({ scope: query.get('scope') as Scope, name, ...(namespace && { namespace }) });
  const message = errorMessage(body);
  if (status === 401) {
    return sessionEnded(target);
  }
  const hint =
    status === 403
      ? ' Ask an admin of the Team for access (kubectl auth can-i shows what you may do).'
      : status === 400
        ? ' See kubectl llm usage --help.'
        : '';
  return new CliError(
    `usage of ${what}: ${message ?? `HTTP ${status} from ${target.base}/api/usage`}${hint}`,
  );
}
