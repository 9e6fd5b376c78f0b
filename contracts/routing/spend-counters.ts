// The operator's side of the spend counters (names: redis-layout.ts spendCounterKey): its
// spend sync reads each key's and team's spend from LiteLLM, the source of truth, and raises
// the gateway's counter for the current period to it. Only raises: the counter also holds the
// costs of calls LiteLLM has not booked yet (its spend is written in batches), so lowering it
// to LiteLLM's figure would forget them and let a key spend past its budget for a while.
//
// One script, so "read, compare, write" is atomic against the gateways' INCRBYs.
import type { Redis } from 'ioredis';

/**
 * KEYS[1] the counter; ARGV[1] LiteLLM's spend in micro-dollars, ARGV[2] the unix second the
 * counter expires at ('' never). counter := max(counter, ARGV[1]); returns the counter after.
 * KEEPTTL: a raise keeps the expiry the gateways set, EXPIREAT then sets it when given.
 */
export const RECONCILE_SPEND_SCRIPT = `
local counter, figure, expireAt = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local current = tonumber(redis.call('GET', counter)) or 0
if figure > current then
  redis.call('SET', counter, ARGV[1], 'KEEPTTL')
  current = figure
end
if expireAt ~= '' then redis.call('EXPIREAT', counter, expireAt) end
return current
`;

const RECONCILE_COMMAND = 'llmtenancySpendReconcile';

export interface SpendReconciler {
  /**
   * Raises `counter` to `micros` (never lowers it); `expireAtSeconds`: the period's end plus
   * SPEND_COUNTER_GRACE_SECONDS, undefined for a "total" counter. Resolves with the counter.
   */
  reconcile(counter: string, micros: number, expireAtSeconds?: number): Promise<number>;
}

export function spendReconciler(redis: Redis): SpendReconciler {
  redis.defineCommand(RECONCILE_COMMAND, { numberOfKeys: 1, lua: RECONCILE_SPEND_SCRIPT });
  const command = (redis as unknown as Record<string, (...a: (string | number)[]) => unknown>)[
    RECONCILE_COMMAND
  ]!;
  return {
    async reconcile(counter, micros, expireAtSeconds) {
      if (!Number.isSafeInteger(micros) || micros < 0) {
        throw new Error('spend must be a non-negative whole number of micro-dollars');
      }
      const reply = await command.call(
        redis,
        counter,
        micros,
        expireAtSeconds === undefined ? '' : Math.ceil(expireAtSeconds),
      );
      if (typeof reply !== 'number') throw new Error('unexpected reply from the reconcile script');
      return reply;
    },
  };
}
