// The spend sync: one pass reads every key's, team's and user's spend from LiteLLM in bulk
// (GET /key/list and /user/list a page of 100 at a time, /team/list at once) and writes each
// Team's, User's and VirtualKey's status.spend and status.budget where they differ.
//
// - Only changed objects are written, with a JSON merge patch of just those two fields on the
//   status subresource (field manager "spend-sync"), so the reconcilers' other status fields
//   are never touched, and their whole-status writes keep these (they start from the stored
//   status). The Team and User reconcilers also write status.spend from the /team/info or
//   /user/info they read anyway: both copy LiteLLM's figure, so the sync writes spend only
//   when it differs and the two agree once LiteLLM stops moving.
// - The patch carries the resourceVersion the sync read: a 409 (the object changed since)
//   re-reads it and tries once more; 404 (deleted meanwhile) is skipped.
// - A kind with no object that names a LiteLLM id is not read at all.
// - LiteLLM down: nothing is written (status keeps the last figures), the error is logged
//   once per outage and counted, and the next pass runs at the usual interval.
// - An object LiteLLM's list lacks keeps its status: paged lists can miss a row (see
//   LiteLLMClient.listAllKeys), and the reconcilers report what is really gone.
// - Budget alerts (budget-alerts.ts): a threshold of spec.limits.alertThresholds (default
//   the operator's) reached for the first time this period is written to
//   status.budget.alertsSent in the same patch, and its BudgetThresholdReached Event is
//   recorded once that patch is stored: a restart finds it sent and does not repeat it (an
//   Event the API server then refuses is logged, not retried). Projected exhaustion
//   (BudgetExhaustionProjected) and a key's soft budget (SoftBudgetReached) fire once per
//   period the same way. Each alert is then handed to the alert outbox (alerts/), which
//   delivers it to the webhook and e-mail in the background: delivery never delays nor
//   fails a pass.
import type { Team, User, VirtualKey } from '../../../../crds/api/index.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { KeySnapshot } from '../virtual-key/key-snapshot.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import type { EventRecorder, EventSpec } from '../../runtime/events.ts';
import type { ResourceType } from '../../runtime/discovery.ts';
import { isConflict, isNotFound, refOf, type KubeClient } from '../../runtime/kube-client.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { FencedWriteError } from '../../runtime/write-fence.ts';
import { TEAM_RESOURCE, USER_RESOURCE, VIRTUAL_KEY_RESOURCE } from '../shared/kinds.ts';
import { dollarsOf, type MoneyInput } from '../../../../crds/api/meta.ts';
import type { AlertQueue } from './alerts/alert-outbox.ts';
import { budgetAlert, type AlertCause, type AlertSubject } from './alerts/budget-alert.ts';
import {
  budgetAlerts,
  DEFAULT_ALERT_THRESHOLDS,
  projectionEvent,
  softBudgetEvent,
  thresholdEvent,
  type AlertBookkeeping,
} from './budget-alerts.ts';
import { noSpendCounters, type SpendCounterSink, type SpendFigure } from './spend-counter-sink.ts';
import type { SpendSyncMetrics } from './spend-metrics.ts';
import { spendFieldsOf, spendPatch, type SpendFields, type SpendRow } from './spend-status.ts';

export const SPEND_SYNC = 'spend-sync';

/** What fired in one write, and the soft budget it was measured against. */
type Fired = Omit<AlertBookkeeping, 'alertsSent'> & { softBudget?: string };

/** Status writes in flight at once: 10,000 first writes should not take minutes. */
const WRITE_CONCURRENCY = 8;

type Owner = KubeObject & {
  spec?: { limits?: { alertThresholds?: number[]; softBudget?: MoneyInput } };
  status?: SpendFields;
};

export interface SpendSyncDeps {
  litellm: Pick<LiteLLMClient, 'listAllKeys' | 'listAllUsers' | 'listTeams'>;
  kube: Pick<KubeClient, 'read' | 'mergePatchStatus'>;
  /** The objects whose status is kept (the informer caches the controllers share). */
  stores: {
    teams: ObjectStore<Team>;
    users: ObjectStore<User>;
    keys: ObjectStore<VirtualKey>;
  };
  metrics: SpendSyncMetrics;
  log: Logger;
  /** The gateway's spend counters (default: none). */
  counters?: SpendCounterSink;
  /** Unix ms, for the last-success metric, projections and the alerts' time. */
  now?: () => number;
  /** Records BudgetThresholdReached Events (default: none are recorded). */
  recorder?: Pick<EventRecorder, 'record'>;
  /** Thresholds (percent) of objects without spec.limits.alertThresholds. Default 50, 75, 90, 100. */
  alertThresholds?: readonly number[];
  /** Where budget alerts go after their status write (default: only Events). */
  alerts?: AlertQueue;
  /**
   * The VirtualKey controller's snapshot of LiteLLM's keys: each pass's key listing is handed
   * to it, so a resync need not list the same pages again (key-snapshot.ts).
   */
  keySnapshot?: Pick<KeySnapshot, 'taking'>;
}

export interface SpendSyncResult {
  /** False when LiteLLM could not be read (nothing was written). */
  read: boolean;
  written: number;
  unchanged: number;
  /** Deleted (or given another LiteLLM id) while the pass ran. */
  skipped: number;
  failed: number;
}

interface KindSync {
  kind: 'Team' | 'User' | 'VirtualKey';
  resource: ResourceType;
  objects: () => Owner[];
  idOf: (object: Owner) => string | undefined;
  readRows: (signal: AbortSignal) => Promise<Map<string, SpendRow>>;
}

export class SpendSync {
  readonly #deps: SpendSyncDeps;
  readonly #kinds: KindSync[];
  #outage = false;
  /** The usedRatio series set by the last pass, to remove those of objects gone since. */
  #ratioSeries = new Map<string, { kind: string; namespace: string; name: string }>();

  constructor(deps: SpendSyncDeps) {
    this.#deps = deps;
    const { litellm, stores } = deps;
    const object = { object: SPEND_SYNC };
    this.#kinds = [
      {
        kind: 'Team',
        resource: TEAM_RESOURCE,
        objects: () => stores.teams.list(),
        idOf: (o) => (o as Team).status?.teamId,
        readRows: async (signal) =>
          byId(await litellm.listTeams({}, { signal, ...object }), (t) => t.team_id),
      },
      {
        kind: 'User',
        resource: USER_RESOURCE,
        objects: () => stores.users.list(),
        idOf: (o) => (o as User).status?.userId,
        readRows: async (signal) =>
          byId(await litellm.listAllUsers({ signal, ...object }), (u) => u.user_id),
      },
      {
        kind: 'VirtualKey',
        resource: VIRTUAL_KEY_RESOURCE,
        objects: () => stores.keys.list(),
        idOf: (o) => (o as VirtualKey).status?.keyId,
        readRows: async (signal) => {
          const list = () => litellm.listAllKeys({ signal, ...object });
          const all = await (deps.keySnapshot ? deps.keySnapshot.taking(list) : list());
          return byId(all, (k) => k.token ?? undefined);
        },
      },
    ];
  }

  /** One pass. Throws only when writes are refused (leadership lost) or it is aborted. */
  async sync(signal: AbortSignal): Promise<SpendSyncResult> {
    const result: SpendSyncResult = {
      read: false,
      written: 0,
      unchanged: 0,
      skipped: 0,
      failed: 0,
    };
    const work = this.#kinds
      .map((kind) => ({ kind, objects: kind.objects().filter((o) => kind.idOf(o) !== undefined) }))
      .filter(({ objects }) => objects.length > 0);

    let rows: Map<string, SpendRow>[];
    try {
      rows = await Promise.all(work.map(({ kind }) => kind.readRows(signal)));
    } catch (err) {
      if (signal.aborted) throw err;
      this.#litellmFailed(err);
      return result;
    }
    result.read = true;
    this.#deps.metrics.reads.inc();
    if (this.#outage) {
      this.#outage = false;
      this.#deps.log.info('LiteLLM answers again: spend sync resumed');
    }

    await this.#reconcileCounters(work, rows, signal);

    const writes = work.flatMap(({ kind, objects }, i) =>
      objects.map((object) => ({ kind, object, row: rows[i]!.get(kind.idOf(object)!) })),
    );
    const ratios = new Map<string, { kind: string; namespace: string; name: string }>();
    await eachConcurrently(writes, WRITE_CONCURRENCY, async ({ kind, object, row }) => {
      if (!row) return void result.unchanged++;
      const figures = spendFieldsOf(row);
      if (figures.budget) {
        const labels = {
          kind: kind.kind,
          namespace: object.metadata?.namespace ?? '',
          name: object.metadata?.name ?? '',
        };
        this.#deps.metrics.usedRatio.set(labels, Number(figures.budget.usedFraction));
        ratios.set(JSON.stringify(labels), labels);
      }
      const outcome = await this.#write(kind, object, figures, signal);
      result[outcome]++;
      if (outcome === 'written') this.#deps.metrics.writes.inc({ kind: kind.kind });
    });
    this.#forgetRatios(ratios);
    if (result.failed === 0) this.#deps.metrics.lastSuccess.set(this.#now() / 1000);
    return result;
  }

  async #write(
    kind: KindSync,
    cached: Owner,
    figures: SpendFields,
    signal: AbortSignal,
  ): Promise<'written' | 'unchanged' | 'skipped' | 'failed'> {
    const id = kind.idOf(cached);
    let current: Owner = cached;
    for (let attempt = 1; ; attempt++) {
      // Computed from the copy being patched: after a 409, from the fresh one.
      const { desired, fired } = this.#withAlerts(current, figures);
      const patch = spendPatch(current.status, desired);
      if (!patch) return 'unchanged';
      try {
        await this.#deps.kube.mergePatchStatus(
          kind.resource,
          refOf(current),
          { metadata: { resourceVersion: current.metadata?.resourceVersion }, status: patch },
          { fieldManager: SPEND_SYNC, signal },
        );
        this.#alert(kind, current, desired, fired);
        return 'written';
      } catch (err) {
        if (isNotFound(err)) return 'skipped';
        if (err instanceof FencedWriteError || signal.aborted) throw err;
        if (!isConflict(err) || attempt >= 2) {
          this.#deps.metrics.errors.inc({ stage: 'kubernetes' });
          this.#deps.log.warn(
            {
              err,
              kind: kind.kind,
              name: current.metadata?.name,
              namespace: current.metadata?.namespace,
            },
            'could not write spend to status; the next pass tries again',
          );
          return 'failed';
        }
      }
      const fresh = await this.#deps.kube.read<Owner>(kind.resource, refOf(current), signal);
      if (!fresh || kind.idOf(fresh) !== id) return 'skipped';
      current = fresh;
    }
  }

  /** LiteLLM's figures plus the alert bookkeeping of `object`'s thresholds. */
  #withAlerts(object: Owner, figures: SpendFields): { desired: SpendFields; fired: Fired } {
    if (!figures.budget) return { desired: figures, fired: { reached: [] } };
    const thresholds =
      object.spec?.limits?.alertThresholds ??
      this.#deps.alertThresholds ??
      DEFAULT_ALERT_THRESHOLDS;
    const softBudget = dollarsOf(object.spec?.limits?.softBudget);
    const { alertsSent, ...fired } = budgetAlerts(
      figures.spend ?? '0',
      figures.budget,
      object.status?.budget?.alertsSent,
      thresholds,
      { now: this.#now(), ...(softBudget !== undefined ? { softBudget } : {}) },
    );
    return {
      desired: { ...figures, budget: { ...figures.budget, ...(alertsSent ? { alertsSent } : {}) } },
      fired: { ...fired, ...(softBudget !== undefined ? { softBudget } : {}) },
    };
  }

  /** The Events and deliveries of what fired, once its status write is stored. */
  #alert(kind: KindSync, object: Owner, desired: SpendFields, fired: Fired): void {
    const spend = desired.spend ?? '0';
    const budget = desired.budget!;
    const causes: { cause: AlertCause; event: EventSpec }[] = fired.reached.map((threshold) => ({
      cause: { type: 'budget.threshold_reached', threshold },
      event: thresholdEvent(threshold, spend, budget),
    }));
    if (fired.projection)
      causes.push({
        cause: { type: 'budget.exhaustion_projected', projection: fired.projection },
        event: projectionEvent(fired.projection, spend, budget),
      });
    if (fired.softBudgetReached && fired.softBudget !== undefined)
      causes.push({
        cause: { type: 'budget.soft_budget_reached', softBudget: fired.softBudget },
        event: softBudgetEvent(fired.softBudget, spend),
      });
    const subject: AlertSubject = {
      kind: kind.kind,
      namespace: object.metadata?.namespace ?? '',
      name: object.metadata?.name ?? '',
      litellmId: kind.idOf(object) ?? '',
    };
    const at = this.#now();
    for (const { cause, event } of causes) {
      void this.#deps.recorder?.record(object, event);
      this.#deps.alerts?.enqueue(budgetAlert(subject, cause, spend, budget, at));
    }
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }

  #forgetRatios(now: Map<string, { kind: string; namespace: string; name: string }>): void {
    for (const [key, labels] of this.#ratioSeries)
      if (!now.has(key)) this.#deps.metrics.usedRatio.remove(labels);
    this.#ratioSeries = now;
  }

  async #reconcileCounters(
    work: { kind: KindSync; objects: Owner[] }[],
    rows: Map<string, SpendRow>[],
    signal: AbortSignal,
  ): Promise<void> {
    const figures = (kind: KindSync['kind']): SpendFigure[] => {
      const i = work.findIndex((w) => w.kind.kind === kind);
      if (i < 0) return [];
      return [...rows[i]!].flatMap(([id, row]) => {
        const { spend, budget } = spendFieldsOf(row);
        if (spend === undefined) return [];
        const { periodStart, resetsAt } = budget ?? {};
        const team = kind === 'Team' ? id : (row.team_id ?? undefined);
        return [
          {
            id,
            spend,
            ...(team ? { team } : {}),
            ...(periodStart && resetsAt ? { periodStart, resetsAt } : {}),
          },
        ];
      });
    };
    try {
      const counters = this.#deps.counters ?? noSpendCounters;
      await counters.reconcile({ keys: figures('VirtualKey'), teams: figures('Team') }, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      this.#deps.metrics.errors.inc({ stage: 'counters' });
      this.#deps.log.warn({ err }, "could not reconcile the gateway's spend counters");
    }
  }

  #litellmFailed(err: unknown): void {
    this.#deps.metrics.errors.inc({ stage: 'litellm' });
    if (this.#outage) {
      this.#deps.log.debug({ err }, 'LiteLLM still unreachable; spend status kept');
      return;
    }
    this.#outage = true;
    this.#deps.log.warn(
      { err },
      'cannot read spend from LiteLLM: status keeps the last figures until it answers',
    );
  }
}

function byId<R extends SpendRow>(rows: readonly R[], idOf: (row: R) => string | undefined) {
  const map = new Map<string, SpendRow>();
  for (const row of rows) {
    const id = idOf(row);
    if (id) map.set(id, row);
  }
  return map;
}

async function eachConcurrently<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
