// A budget alert for the sinks' and the outbox's tests.
import { budgetAlert, type BudgetAlert } from './budget-alert.ts';

export function aThresholdAlert(threshold = 90, name = 'chatbot'): BudgetAlert {
  return budgetAlert(
    { kind: 'VirtualKey', namespace: 'ml-prod', name, litellmId: 'a1b2c3' },
    { type: 'budget.threshold_reached', threshold },
    '90.5',
    {
      maxBudget: '100',
      usedFraction: '0.9050',
      periodStart: '2026-12-01T00:00:00Z',
      resetsAt: '2026-12-31T00:00:00Z',
    },
    Date.parse('2026-12-10T08:00:00Z'),
  );
}
