// The spend sync's sink for the gateway's spend counters (contracts/routing/spend-counters.ts):
// each key's and team's counter for its current period is raised to LiteLLM's figure, never
// lowered, so a gateway that missed a cost (restarted Redis, a charge that failed, a call
// booked by another path) refuses a spent budget within one sync. A key without a team has no
// counter at the gateway (its counters are named under the team) and is left out.
import type { Redis } from 'ioredis';
import {
  SPEND_COUNTER_GRACE_SECONDS,
  spendCounterKey,
  spendPeriodId,
  type SpendScope,
} from '../../../../contracts/routing/redis-layout.ts';
import { microDollarsOf } from '../../../../contracts/routing/micro-dollars.ts';
import { spendReconciler } from '../../../../contracts/routing/spend-counters.ts';
import type { SpendCounterSink, SpendFigure } from './spend-counter-sink.ts';

export function redisSpendCounters(redis: Redis, prefix: string): SpendCounterSink {
  const reconciler = spendReconciler(redis);
  const raise = (scope: SpendScope, figure: SpendFigure) => {
    // Rounded up: the counter must never sit below what LiteLLM booked.
    const micros = microDollarsOf(figure.spend, 'ceil');
    if (figure.team === undefined || micros === undefined) return undefined;
    const counter = spendCounterKey(
      prefix,
      figure.team,
      scope,
      figure.id,
      spendPeriodId(figure.resetsAt),
    );
    const endsAt = figure.resetsAt === undefined ? NaN : Date.parse(figure.resetsAt) / 1000;
    return reconciler.reconcile(
      counter,
      micros,
      Number.isFinite(endsAt) ? endsAt + SPEND_COUNTER_GRACE_SECONDS : undefined,
    );
  };
  return {
    async reconcile(figures, signal) {
      // One connection pipelines them; a sync's worth is a few thousand small scripts.
      await Promise.all([
        ...figures.keys.map((f) => raise('key', f)),
        ...figures.teams.map((f) => raise('team', f)),
      ]);
      signal.throwIfAborted();
    },
  };
}
