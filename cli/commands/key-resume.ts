// kubectl llm key resume NAME: unblock a suspended key.
import type { Command } from '../command.ts';
import { setSuspended } from '../key-patch.ts';

export const keyResume: Command = {
  name: 'key resume',
  summary: 'Unblock a suspended VirtualKey (spec.suspended: false).',
  usage: 'NAME [flags]',
  examples: ['kubectl llm key resume chatbot -n ml-research'],
  uses: { dryRun: true },
  args: { min: 1, max: 1 },
  run: (ctx) => setSuspended(ctx, false),
};
