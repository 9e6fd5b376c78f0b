// Before a key is written: is each model it names allowed by the namespace's Team, and does it
// have an Active subscription there? A model the Team does not allow is an error (the key
// could never reach it); a missing subscription is a hint (the key waits for it). Either
// check is skipped when RBAC does not let the caller read Teams or subscriptions.
import type { ModelSubscription, Team } from '../crds/api/index.ts';
import type { CommandContext } from './command.ts';
import { ApiError, CliError } from './errors.ts';

/** The Teams whose spec.namespaces list `namespace`; undefined when Teams cannot be read. */
export async function teamsOwning(
  ctx: CommandContext,
  namespace: string,
): Promise<Team[] | undefined> {
  try {
    const teams = await ctx.resources().list<Team>('Team', undefined);
    return teams.filter((t) => t.spec.namespaces?.includes(namespace));
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 403) return undefined;
    throw err;
  }
}

export const allows = (team: Team, model: string) =>
  team.spec.models?.includes('*') === true || team.spec.models?.includes(model) === true;

export async function checkModels(
  ctx: CommandContext,
  namespace: string,
  models: readonly string[],
): Promise<void> {
  const teams = await teamsOwning(ctx, namespace);
  if (teams === undefined) return;
  if (teams.length === 0) {
    ctx.io.err(
      `warning: no Team claims namespace ${namespace}; the key waits (NoTeam) until a platform admin adds ${namespace} to a Team's spec.namespaces\n`,
    );
    return;
  }
  if (teams.length > 1) return; // The key's condition explains the conflict.
  const team = teams[0]!;
  const refused = models.filter((m) => !allows(team, m));
  if (refused.length > 0) {
    const allowed = team.spec.models?.length ? team.spec.models.join(', ') : 'none';
    throw new CliError(
      `model ${refused.join(', ')} is not allowed by Team ${team.metadata.name} (it allows: ${allowed}), so the key could not reach it; ` +
        `a Team admin approves it with: ${refused.map((m) => `kubectl llm team allow-model ${team.metadata.name} ${m}`).join('; ')}`,
    );
  }
  let subscriptions: ModelSubscription[];
  try {
    subscriptions = await ctx.resources().list<ModelSubscription>('ModelSubscription', namespace);
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 403) return;
    throw err;
  }
  for (const model of models) {
    const active = subscriptions.some(
      (s) => s.spec.model === model && s.status?.phase === 'Active',
    );
    if (!active) {
      ctx.io.err(
        `warning: model ${model} has no Active subscription in ${namespace} yet; the key waits for it: kubectl llm subscribe ${model} -n ${namespace}\n`,
      );
    }
  }
}
