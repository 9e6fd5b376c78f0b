// The answer of the gateway's GET /api/usage (JSON), as the gateway makes it
// (gateway/src/usage/) and as the self-service page and `kubectl llm usage` read it.

/** One day, one model, or a range's totals. */
export interface UsageFigures {
  /** USD, a decimal string to the micro-dollar. */
  spend: string;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  requests: number;
}

export interface ModelUsage extends UsageFigures {
  model: string;
}

export interface UsageDay extends UsageFigures {
  /** YYYY-MM-DD, UTC. */
  date: string;
  models: ModelUsage[];
}

/** The figures of a range: `since` to `until`, UTC days, both included. */
export interface UsageReport {
  since: string;
  until: string;
  totals: UsageFigures;
  /** The range per model, the most spent first. */
  models: ModelUsage[];
  /** Every day from `since` to `until`, oldest first, zeros included. */
  days: UsageDay[];
}

/** The object's status.spend and status.budget, for spend against budget. */
export interface UsageBudget {
  spend?: string;
  maxBudget?: string;
  usedFraction?: string;
  periodStart?: string;
  resetsAt?: string;
}

export interface UsageAnswer extends UsageReport {
  scope: 'team' | 'user' | 'key';
  name: string;
  /** The VirtualKey's namespace (scope key). */
  namespace?: string;
  /** null when the object reports neither spend nor a budget. */
  budget: UsageBudget | null;
}
