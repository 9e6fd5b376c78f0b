// kubectl llm team create NAME: a Team, from flags.
import type { Command } from '../command.ts';
import { buildObject, parseLabels, parseList } from '../manifest.ts';
import { createAndReport, labelsFlag } from '../write.ts';

export const teamCreate: Command = {
  name: 'team create',
  summary: 'Create a Team (or print its manifest with --dry-run=client -o yaml).',
  usage: 'NAME [--namespaces a,b] [--models a,b] [--budget AMOUNT] [flags]',
  description:
    'Teams are cluster-scoped and written by platform admins. Approving a model for the team is adding it to --models (spec.models); "*" approves every model.',
  examples: [
    'kubectl llm team create ml-research --namespaces ml-research --models granite-3-8b --budget 500 --budget-duration 30d',
    'kubectl llm team create ml-research --namespaces ml-research --dry-run=client -o yaml > teams/ml-research.yaml',
  ],
  flags: {
    namespaces: {
      type: 'string',
      value: 'a,b',
      help: 'Namespaces the team owns (spec.namespaces).',
    },
    models: { type: 'string', value: 'a,b', help: 'Models the team may use (spec.models).' },
    members: {
      type: 'string',
      value: 'USER,…',
      help: 'Users who are members (role member; team add-member sets roles).',
    },
    groups: { type: 'string', value: 'a,b', help: 'Groups whose users are members.' },
    budget: {
      type: 'string',
      value: 'AMOUNT',
      help: 'Spend allowed per budget period, US dollars, e.g. 500 or 12.50.',
    },
    'budget-duration': {
      type: 'string',
      value: 'DURATION',
      help: 'How often spend resets, e.g. 30d or 1mo (needs --budget).',
    },
    'display-name': { type: 'string', value: 'TEXT', help: 'Human-readable name.' },
    ...labelsFlag,
  },
  uses: { namespace: false, dryRun: true },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const v = ctx.values as Record<string, string | undefined>;
    const object = buildObject(
      {
        kind: 'Team',
        name: ctx.args[0]!,
        labels: parseLabels(v.labels),
        spec: {
          displayName: v['display-name'],
          namespaces: parseList(v.namespaces),
          models: parseList(v.models),
          members: parseList(v.members)?.map((user) => ({ user })),
          groups: parseList(v.groups),
          limits: { maxBudget: v.budget, budgetDuration: v['budget-duration'] },
        },
      },
      {
        namespaces: '--namespaces',
        models: '--models',
        members: '--members',
        groups: '--groups',
        'limits.maxBudget': '--budget',
        'limits.budgetDuration': '--budget-duration',
        displayName: '--display-name',
      },
    );
    await createAndReport(ctx, object);
  },
};
