// kubectl llm usage's table: a row per UTC day with its spend, tokens and requests and a bar
// of the day's spend (scaled to the range's biggest day), then the range per model, the
// totals, and spend against the budget of the current period as a gauge. The figures are the
// gateway's GET /api/usage answer (LiteLLM's daily spend analytics); nothing is added up here
// but what a row shows.
import { bar, gauge } from './output/bars.ts';
import type { UsageAnswer } from '../contracts/usage/usage-answer.ts';
import { renderTable, type Column } from './output/table.ts';

const BAR_WIDTH = 30;
const SCOPE_KIND = { team: 'Team', user: 'User', key: 'VirtualKey' } as const;

export function subjectOf(answer: Pick<UsageAnswer, 'scope' | 'name' | 'namespace'>): string {
  const name = answer.namespace ? `${answer.namespace}/${answer.name}` : answer.name;
  return `${SCOPE_KIND[answer.scope]} ${name}`;
}

export function renderUsage(answer: UsageAnswer, wide: boolean): string {
  const biggest = Math.max(0, ...answer.days.map((d) => Number(d.spend)));
  const dayColumns: Column<UsageAnswer['days'][number]>[] = [
    { header: 'Date', value: (d) => d.date },
    { header: 'Spend (USD)', value: (d) => d.spend },
    { header: 'Tokens', value: (d) => String(d.totalTokens) },
    { header: 'Prompt', value: (d) => String(d.promptTokens), wide: true },
    { header: 'Completion', value: (d) => String(d.completionTokens), wide: true },
    { header: 'Requests', value: (d) => String(d.requests) },
    {
      header: 'Models',
      value: (d) => d.models.map((m) => `${m.model}=${m.spend}`).join(',') || '-',
      wide: true,
    },
    // A day that spent nothing shows a dot, not <none>: the chart keeps its rows.
    { header: '', value: (d) => bar(Number(d.spend), biggest, BAR_WIDTH) || '·' },
  ];
  const modelColumns: Column<UsageAnswer['models'][number]>[] = [
    { header: 'Model', value: (m) => m.model },
    { header: 'Spend (USD)', value: (m) => m.spend },
    { header: 'Tokens', value: (m) => String(m.totalTokens) },
    { header: 'Prompt', value: (m) => String(m.promptTokens) },
    { header: 'Completion', value: (m) => String(m.completionTokens) },
    { header: 'Requests', value: (m) => String(m.requests) },
  ];
  const t = answer.totals;
  const parts = [
    `Usage of ${subjectOf(answer)}, ${answer.since} to ${answer.until} (UTC days)\n`,
    renderTable(dayColumns, answer.days, wide),
    answer.models.length > 0
      ? renderTable(modelColumns, answer.models, wide)
      : 'No model was used.\n',
    `Total: ${t.spend} USD, ${t.totalTokens} tokens, ${t.requests} requests\n`,
    ...budgetLines(answer.budget),
  ];
  return parts.join('\n');
}

/**
 * The budget as the object's status has it: this period's spend, which a reset zeroes, so it
 * can be less than the days above add up to.
 */
function budgetLines(budget: UsageAnswer['budget']): string[] {
  if (!budget?.maxBudget) {
    return budget?.spend !== undefined ? [`Spend so far: ${budget.spend} USD (no budget)\n`] : [];
  }
  const spend = Number(budget.spend ?? '0');
  const max = Number(budget.maxBudget);
  const percent = max > 0 ? (spend / max) * 100 : 0;
  const period = [
    budget.periodStart && `since ${budget.periodStart}`,
    budget.resetsAt && `resets ${budget.resetsAt}`,
  ]
    .filter(Boolean)
    .join(', ');
  return [
    `Budget: spend ${budget.spend ?? '0'} of ${budget.maxBudget} USD (${formatPercent(percent)} %)${period ? `, ${period}` : ''}\n` +
      `        ${gauge(spend, max, BAR_WIDTH)}\n`,
  ];
}

/** 7.5, 100, 0.05: at most two decimals, no trailing zeros. */
function formatPercent(percent: number): string {
  return String(Math.round(percent * 100) / 100);
}
