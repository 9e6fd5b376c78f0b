// kubectl llm key suspend NAME: block a key without deleting it.
import type { Command } from '../command.ts';
import { setSuspended } from '../key-patch.ts';

export const keySuspend: Command = {
  name: 'key suspend',
  summary: 'Block a VirtualKey without deleting it (spec.suspended: true).',
  usage: 'NAME [flags]',
  examples: ['kubectl llm key suspend chatbot -n ml-research'],
  uses: { dryRun: true },
  args: { min: 1, max: 1 },
  run: (ctx) => setSuspended(ctx, true),
};
