// kubectl llm user create NAME --email … --role …: a User, from flags.
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { buildObject, parseLabels } from '../manifest.ts';
import { createAndReport, labelsFlag } from '../write.ts';

export const userCreate: Command = {
  name: 'user create',
  summary: 'Create a User (or print its manifest with --dry-run=client -o yaml).',
  usage: 'NAME --email ADDRESS [--role admin|manager|user|viewer] [flags]',
  description:
    'People who sign in through the gateway get a User at first login; create one by hand for someone who needs a key before that, or to give a role.',
  examples: [
    'kubectl llm user create alice --email alice@example.com --role user',
    'kubectl llm user create bob --email bob@example.com --role manager --dry-run=client -o yaml',
  ],
  flags: {
    email: { type: 'string', value: 'ADDRESS', help: 'E-mail address.' },
    role: {
      type: 'string',
      value: 'ROLE',
      help: 'admin, manager, user (the default) or viewer.',
    },
    'display-name': { type: 'string', value: 'TEXT', help: 'Human-readable name.' },
    budget: {
      type: 'string',
      value: 'AMOUNT',
      help: 'Spend allowed for this person across teams, US dollars.',
    },
    'budget-duration': {
      type: 'string',
      value: 'DURATION',
      help: 'How often spend resets, e.g. 30d or 1mo (needs --budget).',
    },
    ...labelsFlag,
  },
  uses: { namespace: false, dryRun: true },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const v = ctx.values as Record<string, string | undefined>;
    if (!v.email) throw new UsageError('--email is required: the address the person signs in with');
    const object = buildObject(
      {
        kind: 'User',
        name: ctx.args[0]!,
        labels: parseLabels(v.labels),
        spec: {
          email: v.email,
          role: v.role,
          displayName: v['display-name'],
          limits: { maxBudget: v.budget, budgetDuration: v['budget-duration'] },
        },
      },
      {
        email: '--email',
        role: '--role',
        displayName: '--display-name',
        'limits.maxBudget': '--budget',
        'limits.budgetDuration': '--budget-duration',
      },
    );
    await createAndReport(ctx, object);
  },
};
