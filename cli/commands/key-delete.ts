// kubectl llm key delete NAME: the operator deletes the key in LiteLLM, then its Secret.
import type { Command } from '../command.ts';
import { kindOf } from '../kube/resources.ts';
import { GROUP } from '../../crds/api/index.ts';

export const keyDelete: Command = {
  name: 'key delete',
  summary: 'Delete a VirtualKey: the key stops working and its Secret goes.',
  usage: 'NAME [flags]',
  examples: ['kubectl llm key delete chatbot -n ml-research'],
  uses: { dryRun: true, output: false },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const name = ctx.args[0]!;
    const namespace = ctx.connection().namespace;
    const dryRun = ctx.global.dryRun;
    if (dryRun === 'client') await ctx.resources().get('VirtualKey', name, namespace);
    else await ctx.resources().delete('VirtualKey', name, namespace, dryRun);
    const suffix =
      dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
    ctx.io.out(`${kindOf('VirtualKey').singular}.${GROUP}/${name} deleted${suffix}\n`);
  },
};
