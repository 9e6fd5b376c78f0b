// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package
// does it, so that only one replica runs controllers while every replica keeps its caches
// warm for a fast failover:
//
// - a candidate takes the Lease when it is free (no holder: released) or when its holder
//   has not renewed it for leaseDuration, measured on *our* clock from when *we* last saw it
//   change (never trusting another machine's timestamps: clock skew cannot steal a lease);
// - the leader renews every retryPeriod; it stops leading the moment it has not renewed for
//   renewDeadline, counted from when it sent its last successful renewal (client-go counts
//   from the start of each renew round, a retryPeriod later: we leave that margin to the
//   others), or the moment it reads the Lease held by someone else: either way before any
//   other replica can take the lease (renewDeadline < leaseDuration, which the others count
//   from when they saw our last renewal, after we sent it);
// - every write carries the resourceVersion it read (optimistic concurrency): two
//   candidates racing for a free lease cannot both win;
// - on shutdown the leader releases the Lease (clears holderIdentity), so a standby takes
//   over at its next retry instead of waiting out the lease.
import { V1MicroTime, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import { jittered } from './backoff.ts';
import { sleep, systemClock, type Clock } from './clock.ts';
import type { ResourceType } from './discovery.ts';
import type { KubeClient } from './kube-client.ts';
import type { KubeObject } from './object.ts';
import { silentLogger, type Logger } from './logger.ts';

export interface LeaderElectionOptions {
  leaseName: string;
  leaseNamespace: string;
  /** Unique per replica: the pod name plus a random suffix. */
  identity: string;
  /** How long a non-renewed lease keeps others away. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leading. Default 10 s. */
  renewDeadlineMs?: number;
  /** How often candidates try to acquire and the leader renews. Default 2 s. */
  retryPeriodMs?: number;
  /** Called once leadership is acquired; `signal` aborts when it ends. */
  onStartedLeading: (signal: AbortSignal) => void;
  /**
   * Called once when leadership ends (lost, or `signal` aborted), and awaited before the
   * lease is released: stop controllers here, so no reconcile of ours overlaps the next
   * leader's.
   */
  onStoppedLeading: () => void | Promise<void>;
  /** Called when a different holder is observed (including ourselves). */
  onNewLeader?: (identity: string) => void;
  clock?: Clock;
  logger?: Logger;
}

/** Lease times come back as strings; writes send V1MicroTime (microseconds, as the API wants). */
const microTime = (ms: number) => new V1MicroTime(ms);

const LEASE: ResourceType = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
};

type Lease = V1Lease & KubeObject;

export class LeaderElector {
  readonly identity: string;
  readonly #kube: Pick<KubeClient, 'read' | 'create' | 'replace'>;
  readonly #name: string;
  readonly #namespace: string;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #options: LeaderElectionOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  /** The lease as we last saw it, and when (our clock) it last changed. */
  #observed: { resourceVersion: string; spec: V1LeaseSpec; at: number } | undefined;
  #leader = false;
  /** Our clock when the last successful acquire or renewal was sent. */
  #renewedAt = 0;
  /** Set when, while leading, the Lease was read with another holder: we lost it. */
  #takenBy: string | undefined;
  #lastReportedHolder: string | undefined;

  /** `kube` must not be fenced: the elector renews and releases while others are refused. */
  constructor(
    kube: Pick<KubeClient, 'read' | 'create' | 'replace'>,
    options: LeaderElectionOptions,
  ) {
    this.#kube = kube;
    this.#options = options;
    this.identity = options.identity;
    this.#name = options.leaseName;
    this.#namespace = options.leaseNamespace;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.#renewDeadlineMs >= this.#leaseDurationMs)
      throw new RangeError('renewDeadline must be shorter than leaseDuration');
    if (this.#retryPeriodMs >= this.#renewDeadlineMs)
      throw new RangeError('retryPeriod must be shorter than renewDeadline');
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({
      lease: `${this.#namespace}/${this.#name}`,
      identity: this.identity,
    });
  }

  isLeader(): boolean {
    return this.#leader;
  }

  /**
   * Campaigns until leading, leads until leadership is lost or `signal` aborts (then
   * releases the lease), and returns. One term per call, as client-go: a replica that lost
   * its lease should restart rather than resume with state from its previous term.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.#acquire(signal))) return;
    this.#leader = true;
    this.#log.info('became leader');
    const term = new AbortController();
    try {
      this.#options.onStartedLeading(term.signal);
      await this.#renewUntilLost(signal);
    } finally {
      this.#leader = false;
      this.#log.info(signal.aborted ? 'stepping down' : 'lost leadership');
      term.abort(new Error('leadership ended'));
      try {
        await this.#options.onStoppedLeading();
      } catch (err) {
        this.#log.error({ err }, 'onStoppedLeading threw');
      }
      if (signal.aborted) await this.#release();
    }
  }

  /** Tries every retryPeriod (jittered) until the lease is ours; false if aborted first. */
  async #acquire(signal: AbortSignal): Promise<boolean> {
    this.#log.info('campaigning for leadership');
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(this.#renewDeadlineMs)) return true;
      try {
        await sleep(this.#clock, jittered(this.#retryPeriodMs, 1.2), signal);
      } catch {
        return false;
      }
    }
    return false;
  }

  /**
   * Renews every retryPeriod; returns when leadership is lost (renewDeadline passed since the
   * last successful renewal, or another holder seen), or on abort.
   */
  async #renewUntilLost(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const untilDeadline = () => this.#renewDeadlineMs - (this.#clock.now() - this.#renewedAt);
      try {
        await sleep(this.#clock, Math.min(this.#retryPeriodMs, untilDeadline()), signal);
      } catch {
        return;
      }
      for (;;) {
        const left = untilDeadline();
        if (left <= 0) {
          this.#log.warn('could not renew the lease within the renew deadline');
          return;
        }
        if (await this.#tryAcquireOrRenew(left)) break;
        if (this.#takenBy !== undefined) {
          this.#log.warn({ holder: this.#takenBy }, 'the lease is held by someone else');
          return;
        }
        if (signal.aborted) return;
        await sleep(this.#clock, Math.min(this.#retryPeriodMs, untilDeadline()), signal).catch(
          () => {},
        );
      }
    }
  }

  /** One attempt; false on any failure (logged). Gives up waiting after `timeoutMs`. */
  async #tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = this.#clock.setTimer(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.#attempt(), timeout]);
    } catch (err) {
      this.#log.debug({ err }, 'lease attempt failed');
      return false;
    } finally {
      timer?.cancel();
    }
  }

  async #attempt(): Promise<boolean> {
    const now = this.#clock.now();
    const ok = await this.#attemptAt(now);
    if (ok) this.#renewedAt = now;
    return ok;
  }

  async #attemptAt(now: number): Promise<boolean> {
    const lease = await this.#kube.read<Lease>(LEASE, this.#ref());
    if (!lease) {
      const created = await this.#kube.create<Lease>(LEASE, {
        metadata: this.#ref(),
        spec: this.#spec({
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        }),
      });
      this.#observe(created);
      return true;
    }
    this.#observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    if (this.#leader && holder !== this.identity) {
      // Someone else wrote the Lease while we lead (or cleared it): it is not ours any more,
      // even if its duration says we could take it back. Stop, do not fight over it.
      this.#takenBy = holder;
      return false;
    }
    const durationMs = (spec.leaseDurationSeconds ?? this.#leaseDurationMs / 1000) * 1000;
    if (holder && holder !== this.identity && this.#observed!.at + durationMs > now) return false;

    const renewing = holder === this.identity;
    const replaced = await this.#kube.replace<Lease>(LEASE, {
      metadata: { ...this.#ref(), resourceVersion: lease.metadata?.resourceVersion },
      spec: this.#spec({
        acquireTime: renewing && spec.acquireTime ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (renewing ? 0 : 1),
      }),
    });
    this.#observe(replaced);
    return true;
  }

  #ref(): { name: string; namespace: string } {
    return { name: this.#name, namespace: this.#namespace };
  }

  #spec(times: Pick<V1LeaseSpec, 'acquireTime' | 'renewTime' | 'leaseTransitions'>): V1LeaseSpec {
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
      ...times,
    };
  }

  #observe(lease: V1Lease): void {
    const resourceVersion = lease.metadata?.resourceVersion ?? '';
    if (this.#observed?.resourceVersion !== resourceVersion) {
      this.#observed = { resourceVersion, spec: lease.spec ?? {}, at: this.#clock.now() };
    }
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder && holder !== this.#lastReportedHolder) {
      this.#lastReportedHolder = holder;
      this.#log.info({ leader: holder }, 'new leader observed');
      try {
        this.#options.onNewLeader?.(holder);
      } catch (err) {
        this.#log.error({ err }, 'onNewLeader threw');
      }
    }
  }

  /** Clears holderIdentity if we still hold the lease, so a standby can take over at once. */
  async #release(): Promise<void> {
    try {
      const lease = await this.#kube.read<Lease>(LEASE, this.#ref());
      if (lease?.spec?.holderIdentity !== this.identity) return;
      const now = this.#clock.now();
      await this.#kube.replace<Lease>(LEASE, {
        metadata: { ...this.#ref(), resourceVersion: lease.metadata?.resourceVersion },
        spec: {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: lease.spec?.leaseTransitions ?? 0,
        },
      });
    } catch (err) {
      this.#log.warn({ err }, 'releasing the lease failed; others take over once it expires');
    }
  }
}
