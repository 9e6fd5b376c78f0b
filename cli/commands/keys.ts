// kubectl llm keys: the VirtualKeys of a namespace (or all), with what they reach, spend,
// expiry and rotation. Never the key itself: that is in the Secret.
import type { VirtualKey } from '../../crds/api/index.ts';
import type { Command } from '../command.ts';
import { listObjects, selectorFlag } from '../listing.ts';
import { list, nameColumn, readyColumns, spendOfBudget } from '../output/columns.ts';
import type { Column } from '../output/table.ts';
import { relative } from '../output/time.ts';

export const keyColumns: Column<VirtualKey>[] = [
  nameColumn(),
  { header: 'User', value: (k) => k.spec.user },
  { header: 'Models', value: (k) => list(k.status?.models) },
  {
    header: 'Spend',
    value: (k) => spendOfBudget(k.status?.spend, k.spec.limits?.maxBudget),
  },
  { header: 'Expires', value: (k) => relative(k.status?.expiresAt) },
  { header: 'Next Rotation', value: (k) => relative(k.status?.nextRotationAt) },
  ...readyColumns<VirtualKey>().slice(0, 3),
  { header: 'Secret', value: (k) => k.status?.secretName, wide: true },
  { header: 'Missing Models', value: (k) => list(k.status?.missingModels), wide: true },
  { header: 'Suspended', value: (k) => String(k.spec.suspended ?? false), wide: true },
  ...readyColumns<VirtualKey>().slice(3),
];

export const keys: Command = {
  name: 'keys',
  summary: 'List VirtualKeys: user, models reached, spend/budget, expiry, next rotation, Ready.',
  usage: '[flags]',
  examples: ['kubectl llm keys -n ml-research', 'kubectl llm keys -A -o wide'],
  flags: selectorFlag,
  uses: { allNamespaces: true },
  run: (ctx) => listObjects<VirtualKey>(ctx, 'VirtualKey', keyColumns),
};
