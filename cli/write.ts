// How every writing command ends: with --dry-run=client the object is printed and never sent;
// otherwise it is sent (with dryRun=All for --dry-run=server) and kubectl's one-line report is
// printed, or the object the apiserver returned with -o json|yaml|name.
import type { CommandContext, Flags } from './command.ts';
import type { AnyObject } from './kube/resources.ts';
import { forGitOps } from './manifest.ts';
import { objectName, printObjects } from './output/print.ts';

export const labelsFlag: Flags = {
  labels: {
    type: 'string',
    value: 'KEY=VALUE,…',
    help: 'Labels for the new object (as kubectl run --labels).',
  },
};

/** "created", "created (dry run)", "created (server dry run)". */
export function reportWrite(ctx: CommandContext, object: AnyObject, verb: string): void {
  const printed =
    ctx.global.output === 'table' || ctx.global.output === 'wide'
      ? undefined
      : printObjects(
          ctx.global.dryRun === 'client' ? forGitOps(object) : object,
          ctx.global.output,
        );
  if (printed !== undefined) {
    ctx.io.out(printed);
    return;
  }
  const suffix =
    ctx.global.dryRun === 'client'
      ? ' (dry run)'
      : ctx.global.dryRun === 'server'
        ? ' (server dry run)'
        : '';
  ctx.io.out(`${objectName(object)} ${verb}${suffix}\n`);
}

/** Creates `object` (or only prints it with --dry-run=client); returns what the server holds. */
export async function createAndReport(ctx: CommandContext, object: AnyObject): Promise<AnyObject> {
  if (ctx.global.dryRun === 'client') {
    reportWrite(ctx, object, 'created');
    return object;
  }
  const created = await ctx.resources().create(object, ctx.global.dryRun);
  reportWrite(ctx, created, 'created');
  return created;
}
