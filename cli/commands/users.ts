// kubectl llm users: the Users, their role, teams and spend.
import type { User } from '../../crds/api/index.ts';
import type { Command } from '../command.ts';
import { listObjects, selectorFlag } from '../listing.ts';
import { list, nameColumn, readyColumns, spendOfBudget } from '../output/columns.ts';
import type { Column } from '../output/table.ts';
import { relative } from '../output/time.ts';

export const userColumns: Column<User>[] = [
  nameColumn(),
  { header: 'Email', value: (u) => u.spec.email },
  { header: 'Role', value: (u) => u.spec.role },
  { header: 'Teams', value: (u) => list(u.status?.teams) },
  { header: 'Spend', value: (u) => spendOfBudget(u.status?.spend, u.spec.limits?.maxBudget) },
  ...readyColumns<User>().slice(0, 3),
  { header: 'Last Login', value: (u) => relative(u.status?.lastLoginAt), wide: true },
  ...readyColumns<User>().slice(3),
];

export const users: Command = {
  name: 'users',
  summary: 'List Users: e-mail, role, teams, spend/budget, Ready and why.',
  usage: '[flags]',
  examples: ['kubectl llm users', 'kubectl llm users -o wide'],
  flags: selectorFlag,
  uses: { namespace: false },
  run: (ctx) => listObjects<User>(ctx, 'User', userColumns),
};
