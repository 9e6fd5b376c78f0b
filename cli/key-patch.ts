// key suspend and key resume: one merge patch of spec.suspended. The operator blocks (or
// unblocks) the key in LiteLLM and the gateway; the Secret stays.
import type { CommandContext } from './command.ts';
import type { AnyObject } from './kube/resources.ts';
import { reportWrite } from './write.ts';

export async function setSuspended(ctx: CommandContext, suspended: boolean): Promise<void> {
  const name = ctx.args[0]!;
  const namespace = ctx.connection().namespace;
  const verb = suspended ? 'suspended' : 'resumed';
  if (ctx.global.dryRun === 'client') {
    const key = await ctx.resources().get('VirtualKey', name, namespace);
    reportWrite(ctx, { ...key, spec: { ...key.spec, suspended } } as AnyObject, verb);
    return;
  }
  const patched = await ctx
    .resources()
    .patch('VirtualKey', name, namespace, { spec: { suspended } }, ctx.global.dryRun);
  reportWrite(ctx, patched, verb);
}
