// The Manager runs everything the operator's controllers share, in controller-runtime's
// order:
//
//   1. log the effective configuration, once;
//   2. serve /healthz, /readyz and /metrics;
//   3. preflight: every watched type must be served (a missing CRD fails start-up with a
//      message naming it, instead of informers retrying 404s forever);
//   4. start the shared informers on every replica, and wait for their caches (ready);
//   5. start the runnables that need no lease (runnable.ts), on every replica;
//   6. run the leader-only runnables, the controllers and singleton loops among them, only
//      while leader (Lease election), or at once when election is off;
//   7. a replica that loses its lease (renew deadline passed, or another holder seen) stops
//      writing at once, before anyone else can hold the lease: writes through `kube` (and
//      `kubeConfig`) are refused from then on (write-fence.ts), every runnable's signal is aborted with
//      LeadershipLostError (in-flight reconciles' signals with it), no reconcile starts, and
//      start() rejects with LeadershipLostError without waiting for them to return
//      (controller-runtime drops its graceful shutdown here too), so the process exits
//      non-zero and restarts clean;
//   8. a runnable that fails (runnables.ts) is logged and stops the manager: start() rejects
//      with RunnableFailedError after the graceful stop below;
//   9. on stop() or SIGTERM/SIGINT: stop runnables (in-flight reconciles finish), release
//      the lease, stop informers, close the server.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { KubeTransport } from '../../../contracts/kube/kube-transport.ts';
import { Controller, type ControllerOptions } from './controller.ts';
import { enqueueMapped, enqueueObject, type UpdatePredicate } from './event-handlers.ts';
import { startHealthServer, type HealthServer } from './health-server.ts';
import { InformerFactory, type InformerDefaults, type InformerTarget } from './informer-factory.ts';
import { HttpKubeClient, type KubeClient } from './kube-client.ts';
import { countKubeRequests } from './kube-request-metrics.ts';
import { LeaderElector } from './leader-election.ts';
import { createLogger, type Logger } from './logger.ts';
import { runtimeMetrics, type RuntimeMetrics } from './metrics.ts';
import { WriteFence } from './write-fence.ts';
import type { KubeObject } from './object.ts';
import type { Request } from './request.ts';
import {
  LeadershipLostError,
  RunnableFailedError,
  aborted,
  type AddOptions,
  type Runnable,
} from './runnable.ts';
import { Runnables } from './runnables.ts';

// Where the manager's callers have always found them.
export { LeadershipLostError, RunnableFailedError };

export interface LeaderElectionConfig {
  leaseName: string;
  leaseNamespace: string;
  /** Default: host name (the pod name) plus a random suffix. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  /** For logs. Default "llm-tenancy-operator". */
  name?: string;
  logger?: Logger;
  /** Default: a new Registry with Node's default process metrics. */
  registry?: Registry;
  /** Port of /healthz, /readyz, /metrics; 0 picks a free one; false serves nothing. Default 8081. */
  healthPort?: number | false;
  healthHost?: string;
  /** false: lead at once (one replica, tests). */
  leaderElection: false | LeaderElectionConfig;
  informerDefaults?: InformerDefaults;
  /** Install SIGTERM/SIGINT handlers that stop the manager. Default true. */
  handleSignals?: boolean;
  /**
   * Every controller's floor under requeueAfter and Retry-After delays (controller.ts);
   * a controller's own minRequeueAfterMs wins. Default 1 s.
   */
  minRequeueAfterMs?: number;
}

export interface WatchFor {
  target: InformerTarget;
  /** Drop updates this returns false for (e.g. generationChanged); resyncs always pass. */
  updatePredicate?: UpdatePredicate<KubeObject>;
  resyncPeriodMs?: number;
}

export interface WatchMapped extends WatchFor {
  /** The requests of the controller's own kind that an object of this kind affects. */
  map: (object: KubeObject) => readonly Request[];
}

/** A typed map and predicate, widened to what WatchMapped takes. */
export function watchMapped<T extends KubeObject>(
  target: InformerTarget,
  map: (object: T) => readonly Request[],
  updatePredicate: UpdatePredicate<T>,
): WatchMapped {
  return {
    target,
    map: map as (object: KubeObject) => readonly Request[],
    updatePredicate: updatePredicate as UpdatePredicate<KubeObject>,
  };
}

export interface ManagedControllerOptions extends Omit<ControllerOptions, 'logger' | 'metrics'> {
  /** The controller's own kind: each object enqueues itself. */
  for?: WatchFor;
  /** Other kinds whose changes enqueue mapped requests. */
  watches?: WatchMapped[];
  /** Event sources other than informers (e.g. a LiteLLM poll): see RequestSource. */
  sources?: RequestSource[];
}

/**
 * controller-runtime's source.Channel: called once, when the controller is added, with the
 * function that enqueues into it (requests enqueued before the controller starts wait).
 */
export type RequestSource = (enqueue: (request: Request) => void) => void;

export class Manager {
  readonly name: string;
  readonly log: Logger;
  readonly metrics: RuntimeMetrics;
  readonly informers: InformerFactory;
  readonly #options: ManagerOptions;
  readonly #controllers: Controller[] = [];
  readonly #runnables: Runnables;
  readonly #stop = new AbortController();
  readonly #fence = new WriteFence();
  readonly #kubeConfig: KubeConfig;
  readonly #kube: HttpKubeClient;
  #health: HealthServer | undefined;
  #running: Promise<void> | undefined;
  #leading = false;
  #lost: LeadershipLostError | undefined;
  #failure: RunnableFailedError | undefined;

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.name = options.name ?? 'llm-tenancy-operator';
    this.log = options.logger ?? createLogger();
    let registry = options.registry;
    if (!registry) {
      registry = new Registry();
      collectDefaultMetrics({ register: registry });
    }
    this.metrics = runtimeMetrics(registry);
    this.#runnables = new Runnables({
      logger: this.log,
      onFailure: (failure) => {
        this.#failure ??= failure;
        this.#stop.abort(failure);
      },
    });
    this.#kubeConfig = this.#fence.guard(options.kubeConfig);
    this.informers = new InformerFactory(options.kubeConfig, {
      logger: this.log,
      defaults: options.informerDefaults,
    });
    // The informers' KubeConfig: one connection pool for their watches and every write.
    this.#kube = new HttpKubeClient({
      kubeConfig: options.kubeConfig,
      informers: this.informers,
      fence: this.#fence,
    });
  }

  /** The bound port of the health server (after start), e.g. when healthPort was 0. */
  get healthPort(): number | undefined {
    return this.#health?.port;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /**
   * The KubeConfig controllers write with (controller-runtime's manager client): the
   * manager's own, except that once leadership is lost every request but a GET fails.
   */
  get kubeConfig(): KubeConfig {
    return this.#kubeConfig;
  }

  /**
   * The client controllers read and write with: reads from the informers' caches, writes
   * over one keep-alive connection pool, all of them refused once leadership is lost.
   */
  get kube(): KubeClient {
    return this.#kube;
  }

  /** Set once the lease was lost: why. */
  get lostLeadership(): LeadershipLostError | undefined {
    return this.#lost;
  }

  /** Every controller it runs, the singleton loops' (singleton-loop.ts) included. */
  get controllers(): readonly Controller[] {
    return this.#controllers;
  }

  /** The first runnable that failed, once one did. */
  get failure(): RunnableFailedError | undefined {
    return this.#failure;
  }

  /**
   * Runs `runnable` with the manager (runnable.ts): leader-only ones (the default) while this
   * replica leads, the others once the caches have synced. Call before start().
   */
  add(runnable: Runnable, options: AddOptions = {}): void {
    if (this.#running) throw new Error(`add ${runnable.name} before the manager starts`);
    this.#runnables.add(runnable, options);
    const controller = runnable instanceof Controller ? runnable : controllerOf(runnable);
    if (controller) this.#controllers.push(controller);
  }

  /**
   * A controller with the manager's logger, metrics and requeue floor, not yet added: for
   * runnables built on one (singleton-loop.ts). addController() builds and adds in one.
   */
  newController(options: Omit<ControllerOptions, 'logger' | 'metrics'>): Controller {
    return new Controller({
      ...options,
      minRequeueAfterMs: options.minRequeueAfterMs ?? this.#options.minRequeueAfterMs,
      logger: this.log,
      metrics: this.metrics,
    });
  }

  /**
   * Adds a controller, leader-only, and wires its watches to the shared informers. Call
   * before start().
   */
  addController(options: ManagedControllerOptions): Controller {
    if (this.#controllers.some((c) => c.name === options.name)) {
      throw new Error(`a controller named ${options.name} already exists`);
    }
    const controller = this.newController(options);
    if (options.for) {
      this.informers
        .informerFor(options.for.target)
        .addEventHandler(
          enqueueObject(controller, { updatePredicate: options.for.updatePredicate }),
          {
            resyncPeriodMs: options.for.resyncPeriodMs,
          },
        );
    }
    for (const watch of options.watches ?? []) {
      this.informers
        .informerFor(watch.target)
        .addEventHandler(
          enqueueMapped(controller, watch.map, { updatePredicate: watch.updatePredicate }),
          {
            resyncPeriodMs: watch.resyncPeriodMs,
          },
        );
    }
    for (const source of options.sources ?? []) source((request) => controller.enqueue(request));
    this.add(controller, { leaderOnly: true });
    return controller;
  }

  /** Ready: every informer has synced. */
  readiness(): { ready: boolean; reasons: string[] } {
    const reasons = this.informers.informers
      .filter((i) => !i.hasSynced())
      .map((i) => `cache not synced: ${i.description}`);
    if (!this.#running) reasons.push('manager not started');
    return { ready: reasons.length === 0, reasons };
  }

  /**
   * Runs until stop() (resolves) or a fatal error: preflight failed, leadership lost
   * (rejects). Call once.
   */
  start(): Promise<void> {
    if (this.#running) throw new Error('manager already started');
    this.#running = this.#run();
    return this.#running;
  }

  /** Stops gracefully; resolves when everything has stopped. */
  async stop(): Promise<void> {
    this.#stop.abort(new Error('manager stopping'));
    await this.#running?.catch(() => {});
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    const onSignal = (name: string) => {
      this.log.info({ signal: name }, 'shutting down');
      this.#stop.abort(new Error(`received ${name}`));
    };
    const onTerm = () => onSignal('SIGTERM');
    const onInt = () => onSignal('SIGINT');
    if (this.#options.handleSignals ?? true) {
      process.once('SIGTERM', onTerm);
      process.once('SIGINT', onInt);
    }
    const election = this.#options.leaderElection;
    const identity = election
      ? (election.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`)
      : undefined;
    this.#logConfiguration(identity);
    // The informers' and writers' transport, and the fenced KubeConfig's (its own pool).
    const uncount = countKubeRequests(
      [KubeTransport.of(this.#options.kubeConfig), KubeTransport.of(this.#kubeConfig)],
      this.metrics.registry,
    );
    try {
      if (this.#options.healthPort !== false) {
        this.#health = await startHealthServer({
          port: this.#options.healthPort ?? 8081,
          host: this.#options.healthHost,
          registry: this.metrics.registry,
          readiness: () => this.readiness(),
          logger: this.log,
        });
        this.log.info({ port: this.#health.port }, 'serving /healthz, /readyz, /metrics');
      }
      const resources = await this.informers.preflight();
      this.log.info(
        { resources: resources.map((r) => `${r.plural}.${r.apiVersion}`) },
        'preflight passed',
      );
      this.informers.start();
      await this.informers.waitForSync(signal);
      this.log.info('caches synced');
      this.#runnables.start(false);

      if (!election) {
        this.#startLeading();
        await aborted(signal);
        await this.#stopLeading();
        if (this.#failure) throw this.#failure;
        return;
      }
      // Unfenced: the elector's own writes are what decide whether we lead.
      const leases = new HttpKubeClient({ kubeConfig: this.#options.kubeConfig });
      const elector = new LeaderElector(leases, {
        ...election,
        identity: identity!,
        logger: this.log,
        onStartedLeading: () => this.#startLeading(),
        // Stepping down (stop, SIGTERM, a failed runnable) lets reconciles finish; a loss
        // stops them now.
        onStoppedLeading: () =>
          signal.aborted
            ? this.#stopLeading()
            : this.#loseLeadership(
                new LeadershipLostError(
                  `leader election lost: lease ${election.leaseNamespace}/${election.leaseName}`,
                ),
              ),
      });
      await elector.run(signal);
      if (this.#lost) throw this.#lost;
      if (this.#failure) throw this.#failure;
    } catch (err) {
      if (signal.aborted && err !== this.#lost && err !== this.#failure) {
        // Stopping while still starting (e.g. waiting for sync) is not a failure.
        return;
      }
      this.log.error({ err }, 'manager failed');
      throw err;
    } finally {
      // After a loss the aborted runnables are not waited for: the process exits.
      if (this.#lost) void this.#runnables.stop(false, this.#lost);
      else {
        await this.#stopLeading();
        await this.#runnables.stop(false, stopReason(signal));
      }
      await this.informers.stop();
      uncount();
      await this.#health?.close();
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      this.log.info('manager stopped');
    }
  }

  #startLeading(): void {
    this.#leading = true;
    this.#runnables.start(true);
  }

  #loseLeadership(lost: LeadershipLostError): void {
    this.#lost = lost;
    this.#fence.close(lost);
    this.#leading = false;
    this.log.error({ err: lost }, 'leadership lost: writes refused, reconciles aborted');
    void this.#runnables.stop(true, lost);
  }

  async #stopLeading(): Promise<void> {
    this.#leading = false;
    await this.#runnables.stop(true, stopReason(this.#stop.signal));
  }

  #logConfiguration(identity: string | undefined): void {
    const election = this.#options.leaderElection;
    this.log.info(
      {
        config: {
          name: this.name,
          cluster: this.#options.kubeConfig.getCurrentCluster()?.server,
          health:
            this.#options.healthPort === false
              ? 'off'
              : `${this.#options.healthHost ?? '0.0.0.0'}:${this.#options.healthPort ?? 8081}`,
          leaderElection: election
            ? {
                lease: `${election.leaseNamespace}/${election.leaseName}`,
                identity,
                leaseDurationMs: election.leaseDurationMs ?? 15_000,
                renewDeadlineMs: election.renewDeadlineMs ?? 10_000,
                retryPeriodMs: election.retryPeriodMs ?? 2_000,
              }
            : 'off',
          informers: this.informers.targets.map((t) => InformerFactory.key(t)),
          informerDefaults: this.#options.informerDefaults ?? {},
          controllers: this.#controllers.map((c) => ({ name: c.name, workers: c.workers })),
          runnables: this.#runnables.describe(),
        },
      },
      'effective configuration',
    );
  }
}

/** Why the runnables stop gracefully: the manager's own reason. */
function stopReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('manager stopping');
}

/** The controller a runnable works through (a SingletonLoop's), if it has one. */
function controllerOf(runnable: Runnable): Controller | undefined {
  const { controller } = runnable as { controller?: unknown };
  return controller instanceof Controller ? controller : undefined;
}
