// The spend sync as a leader-only singleton loop (runtime/singleton-loop.ts):
//
//   manager.add(new SingletonLoop(manager, spendSync({ manager, litellm, intervalMs })), { leaderOnly: true })
//
// A pass every SPEND_SYNC_INTERVAL (+ up to 10 % jitter, so replicas' passes and LiteLLM's
// load do not line up); a pass that could not read LiteLLM waits the same interval, not a
// fast backoff: the figures are only a little older meanwhile.
import type { Team, User, VirtualKey } from '../../../../crds/api/index.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import { jittered } from '../../runtime/backoff.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { Manager } from '../../runtime/manager.ts';
import type { SingletonLoopOptions } from '../../runtime/singleton-loop.ts';
import {
  selecting,
  TEAM_TARGET,
  USER_TARGET,
  VIRTUAL_KEY_TARGET,
  type KindSelectors,
} from '../shared/kinds.ts';
import type { AlertQueue } from './alerts/alert-outbox.ts';
import type { SpendCounterSink } from './spend-counter-sink.ts';
import { spendSyncMetrics } from './spend-metrics.ts';
import { SPEND_SYNC, SpendSync, type SpendSyncDeps } from './spend-sync.ts';

export interface SpendSyncLoopDeps {
  manager: Pick<Manager, 'informers' | 'metrics' | 'log' | 'kube'>;
  litellm: LiteLLMClient;
  intervalMs: number;
  labelSelectors?: KindSelectors;
  /** The gateway's spend counters; default none. */
  counters?: SpendCounterSink;
  /** For BudgetThresholdReached Events. */
  recorder?: Pick<EventRecorder, 'record'>;
  /** BUDGET_ALERT_THRESHOLDS: for objects without spec.limits.alertThresholds. */
  alertThresholds?: readonly number[];
  /** Webhook and e-mail delivery of budget alerts (alerts/alert-outbox.ts); default none. */
  alerts?: AlertQueue;
  /** The VirtualKey controller's key snapshot, handed each pass's key listing. */
  keySnapshot?: SpendSyncDeps['keySnapshot'];
}

export function spendSync(deps: SpendSyncLoopDeps): SingletonLoopOptions {
  const { manager } = deps;
  const selectors = deps.labelSelectors ?? {};
  const store = <T extends Team | User | VirtualKey>(
    target: typeof TEAM_TARGET,
    kind: keyof KindSelectors,
  ) => manager.informers.informerFor<T>(selecting(target, selectors[kind])).store;
  const sync = new SpendSync({
    litellm: deps.litellm,
    kube: manager.kube,
    stores: {
      teams: store<Team>(TEAM_TARGET, 'Team'),
      users: store<User>(USER_TARGET, 'User'),
      keys: store<VirtualKey>(VIRTUAL_KEY_TARGET, 'VirtualKey'),
    },
    metrics: spendSyncMetrics(manager.metrics.registry),
    log: manager.log.child({ controller: SPEND_SYNC }),
    counters: deps.counters,
    recorder: deps.recorder,
    alertThresholds: deps.alertThresholds,
    alerts: deps.alerts,
    keySnapshot: deps.keySnapshot,
  });
  return {
    name: SPEND_SYNC,
    pass: async ({ signal }) => {
      // The objects come from the caches: a pass before they hold everything would skip some.
      await manager.informers.waitForSync(signal);
      await sync.sync(signal);
      return jittered(deps.intervalMs, 0.1);
    },
  };
}
