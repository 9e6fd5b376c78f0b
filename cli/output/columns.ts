// Columns every listing shares: Ready and its reason (read as cert-manager's printer columns
// do), age, and spend against budget.
import type { Column } from './table.ts';
import { readyCondition } from './conditions.ts';
import { age } from './time.ts';
import type { Condition } from '../../crds/api/index.ts';
import { dollarsOf, type MoneyInput } from '../../crds/api/meta.ts';

interface Listed {
  metadata: {
    name?: string;
    namespace?: string;
    generation?: number;
    creationTimestamp?: string | Date;
  };
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

const time = (t: string | Date | undefined) => (t instanceof Date ? t.toISOString() : t);

export const nameColumn = <R extends Listed>(): Column<R> => ({
  header: 'Name',
  value: (o) => o.metadata.name,
});

export const namespaceColumn = <R extends Listed>(): Column<R> => ({
  header: 'Namespace',
  value: (o) => o.metadata.namespace,
});

export const readyColumns = <R extends Listed>(): Column<R>[] => [
  { header: 'Ready', value: (o) => readyCondition(o)?.status ?? 'Unknown' },
  { header: 'Reason', value: (o) => readyCondition(o)?.reason },
  { header: 'Age', value: (o) => age(time(o.metadata.creationTimestamp)) },
  { header: 'Message', value: (o) => readyCondition(o)?.message, wide: true },
];

/** "12.5/100", "12.5", "0/100", or undefined with neither. */
export function spendOfBudget(spend: string | undefined, maxBudget: MoneyInput | undefined) {
  const budget = dollarsOf(maxBudget);
  if (spend === undefined && budget === undefined) return undefined;
  return budget === undefined ? (spend ?? '0') : `${spend ?? '0'}/${budget}`;
}

export const list = (values: readonly string[] | undefined) =>
  values && values.length > 0 ? values.join(',') : undefined;
