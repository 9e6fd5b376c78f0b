// The Team edits (add-member, set-budget, allow-model) as one read-change-write: the Team is
// read, changed in memory, checked against the schema, and written back as a merge patch that
// carries the resourceVersion it was read at, so a concurrent edit is never overwritten (a 409
// reads it again). With --dry-run=client the changed Team is printed for a GitOps repository.
import type { Team, TeamSpec } from '../crds/api/index.ts';
import type { CommandContext } from './command.ts';
import { ApiError, CliError } from './errors.ts';
import type { AnyObject } from './kube/resources.ts';
import { validateSpec, type FlagNames } from './manifest.ts';
import { reportWrite } from './write.ts';

/** The changed fields of spec (merge-patch semantics), or a sentence saying nothing changes. */
export type TeamEdit = (spec: TeamSpec) => Partial<TeamSpec> | string;

const ATTEMPTS = 3;

export async function changeTeam(
  ctx: CommandContext,
  name: string,
  edit: TeamEdit,
  verb: string,
  flags: FlagNames = {},
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const team = await ctx.resources().get<Team>('Team', name);
    const change = edit(team.spec);
    if (typeof change === 'string') {
      ctx.io.err(`${change}: nothing to change\n`);
      if (ctx.global.output !== 'table' && ctx.global.output !== 'wide') {
        reportWrite(ctx, team as unknown as AnyObject, 'unchanged');
      }
      return;
    }
    const spec = { ...team.spec, ...change };
    validateSpec('Team', spec, flags);
    const changed = { ...team, spec } as unknown as AnyObject;
    if (ctx.global.dryRun === 'client') {
      reportWrite(ctx, changed, verb);
      return;
    }
    try {
      const patched = await ctx
        .resources()
        .patch(
          'Team',
          name,
          undefined,
          { metadata: { resourceVersion: team.metadata.resourceVersion }, spec: change },
          ctx.global.dryRun,
        );
      reportWrite(ctx, patched, verb);
      return;
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 409 && attempt < ATTEMPTS) continue;
      if (err instanceof ApiError && err.statusCode === 409) {
        throw new CliError(`Team ${name} kept changing while this ran; run the command again`);
      }
      throw err;
    }
  }
}
