// kubectl llm team set-budget TEAM AMOUNT: the Team's spec.limits.maxBudget.
import type { Command } from '../command.ts';
import { changeTeam } from '../team-change.ts';

export const teamSetBudget: Command = {
  name: 'team set-budget',
  summary: "Set a Team's budget (spec.limits.maxBudget, US dollars) and its reset period.",
  usage: 'TEAM AMOUNT [--budget-duration 30d] [flags]',
  examples: [
    'kubectl llm team set-budget ml-research 500',
    'kubectl llm team set-budget ml-research 1000 --budget-duration 1mo',
  ],
  flags: {
    'budget-duration': {
      type: 'string',
      value: 'DURATION',
      help: 'How often spend resets, e.g. 30d or 1mo.',
    },
  },
  uses: { namespace: false, dryRun: true },
  args: { min: 2, max: 2 },
  async run(ctx) {
    const [team, amount] = ctx.args as [string, string];
    const period = ctx.values['budget-duration'] as string | undefined;
    await changeTeam(
      ctx,
      team,
      (spec) => {
        const limits = spec.limits ?? {};
        if (
          limits.maxBudget === amount &&
          (period === undefined || limits.budgetDuration === period)
        ) {
          return `Team ${team}'s budget is already ${amount}`;
        }
        return {
          limits: { ...limits, maxBudget: amount, ...(period ? { budgetDuration: period } : {}) },
        };
      },
      'budget set',
      { 'limits.maxBudget': `AMOUNT "${amount}"`, 'limits.budgetDuration': '--budget-duration' },
    );
  },
};
