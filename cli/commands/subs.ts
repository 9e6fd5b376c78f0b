// kubectl llm subs: the ModelSubscriptions of a namespace (or all), Active or why not.
import type { ModelSubscription } from '../../crds/api/index.ts';
import { dollarsOf } from '../../crds/api/meta.ts';
import type { Command } from '../command.ts';
import { listObjects, selectorFlag } from '../listing.ts';
import { nameColumn, readyColumns } from '../output/columns.ts';
import type { Column } from '../output/table.ts';

export const subscriptionColumns: Column<ModelSubscription>[] = [
  nameColumn(),
  { header: 'Model', value: (s) => s.spec.model },
  { header: 'Team', value: (s) => s.status?.team },
  { header: 'Phase', value: (s) => s.status?.phase },
  ...readyColumns<ModelSubscription>().slice(1, 3),
  { header: 'Budget', value: (s) => dollarsOf(s.spec.limits?.maxBudget), wide: true },
  { header: 'TPM', value: (s) => s.spec.limits?.tpm?.toString(), wide: true },
  { header: 'RPM', value: (s) => s.spec.limits?.rpm?.toString(), wide: true },
  ...readyColumns<ModelSubscription>().slice(3),
];

export const subs: Command = {
  name: 'subs',
  summary: 'List ModelSubscriptions: model, team, phase (Active, Pending, …) and why.',
  usage: '[flags]',
  examples: ['kubectl llm subs -n ml-research', 'kubectl llm subs -A'],
  flags: selectorFlag,
  uses: { allNamespaces: true },
  run: (ctx) => listObjects<ModelSubscription>(ctx, 'ModelSubscription', subscriptionColumns),
};
