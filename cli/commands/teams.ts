// kubectl llm teams: the Teams, with what they may use and what they spend.
import type { Team } from '../../crds/api/index.ts';
import type { Command } from '../command.ts';
import { listObjects, selectorFlag } from '../listing.ts';
import { list, nameColumn, readyColumns, spendOfBudget } from '../output/columns.ts';
import type { Column } from '../output/table.ts';

export const teamColumns: Column<Team>[] = [
  nameColumn(),
  { header: 'Namespaces', value: (t) => list(t.spec.namespaces) },
  { header: 'Members', value: (t) => String(t.status?.memberCount ?? t.spec.members?.length ?? 0) },
  { header: 'Models', value: (t) => list(t.status?.models) },
  { header: 'Spend', value: (t) => spendOfBudget(t.status?.spend, t.spec.limits?.maxBudget) },
  ...readyColumns<Team>().slice(0, 3),
  { header: 'Allowed', value: (t) => list(t.spec.models), wide: true },
  { header: 'Display Name', value: (t) => t.spec.displayName, wide: true },
  ...readyColumns<Team>().slice(3),
];

export const teams: Command = {
  name: 'teams',
  summary: 'List Teams: namespaces, members, models in use, spend/budget, Ready and why.',
  usage: '[flags]',
  description:
    'MODELS are the models the team reaches now (its Active subscriptions); -o wide adds ALLOWED, the models its admins approve (spec.models).',
  examples: ['kubectl llm teams', 'kubectl llm teams -o wide', 'kubectl llm teams -o json'],
  flags: selectorFlag,
  uses: { namespace: false },
  run: (ctx) => listObjects<Team>(ctx, 'Team', teamColumns),
};
