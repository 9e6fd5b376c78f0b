// Where the spend sync hands LiteLLM's figures to the gateway's spend counters (issue 15
// item 2: per-key and per-team counters in Redis per budget period, reconciled as
// counter := max(counter, LiteLLM's figure), LiteLLM staying the source of truth). The sink
// for those counters is redis-spend-counters.ts; without Redis, this one does nothing.

export interface SpendFigure {
  /** LiteLLM's id: a key's hash (VirtualKey status.keyId), or a team_id. */
  id: string;
  /** The key's team_id (for a team: its own id); counters are named under it. */
  team?: string;
  /** LiteLLM's spend in the current budget period, decimal US dollars. */
  spend: string;
  /** The period the figure belongs to, when the budget has one (RFC 3339). */
  periodStart?: string;
  resetsAt?: string;
}

export interface SpendFigures {
  keys: readonly SpendFigure[];
  teams: readonly SpendFigure[];
}

export interface SpendCounterSink {
  /** Called after each successful read of LiteLLM; a throw is counted and logged, not retried. */
  reconcile(figures: SpendFigures, signal: AbortSignal): Promise<void>;
}

export const noSpendCounters: SpendCounterSink = {
  reconcile: async () => {},
};
