import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Controller } from './controller.ts';
import { silentLogger } from './logger.ts';
import { Manager } from './manager.ts';
import {
  aborted,
  LeadershipLostError,
  RunnableFailedError,
  stopsAtOnce,
  type Runnable,
} from './runnable.ts';
import { Runnables } from './runnables.ts';
import { SingletonLoop } from './singleton-loop.ts';

/** A runnable that records its life: started, and why it was stopped. */
function probe(
  name: string,
  extra: Partial<Runnable> & { needLeaderElection?: () => boolean } = {},
) {
  const life = {
    started: 0,
    stoppedBy: undefined as unknown,
    atOnce: undefined as boolean | undefined,
  };
  const runnable = {
    name,
    async start(signal: AbortSignal) {
      life.started++;
      await aborted(signal);
      life.stoppedBy = signal.reason;
      life.atOnce = stopsAtOnce(signal);
    },
    ...extra,
  };
  return { runnable, life };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('Runnables', () => {
  it('starts leader-only runnables on winning the lease and stops them at once on losing it', async () => {
    const failures: RunnableFailedError[] = [];
    const runnables = new Runnables({ onFailure: (f) => failures.push(f) });
    const leader = probe('leader');
    const everywhere = probe('everywhere');
    runnables.add(leader.runnable); // leader-only by default, as in controller-runtime
    runnables.add(everywhere.runnable, { leaderOnly: false });

    // Caches synced: the runnables that need no lease start, the others wait for it.
    runnables.start(false);
    expect(everywhere.life.started).toBe(1);
    expect(leader.life.started).toBe(0);

    runnables.start(true); // the lease is won
    expect(leader.life.started).toBe(1);

    const lost = new LeadershipLostError('lease lost');
    await runnables.stop(true, lost);
    expect(leader.life.stoppedBy).toBe(lost);
    expect(leader.life.atOnce).toBe(true);
    expect(everywhere.life.stoppedBy).toBeUndefined(); // not tied to the lease

    const stopping = new Error('manager stopping');
    await runnables.stop(false, stopping);
    expect(everywhere.life.stoppedBy).toBe(stopping);
    expect(everywhere.life.atOnce).toBe(false);

    runnables.start(true); // a runnable runs once: the process restarts after a loss
    expect(leader.life.started).toBe(1);
    expect(failures).toEqual([]);
  });

  it('asks a LeaderElectionRunnable whether it needs the lease, unless told', () => {
    const runnables = new Runnables({ onFailure: () => {} });
    const anywhere = probe('anywhere', { needLeaderElection: () => false });
    const told = probe('told', { needLeaderElection: () => false });
    runnables.add(anywhere.runnable);
    runnables.add(told.runnable, { leaderOnly: true });
    expect(runnables.describe()).toEqual([
      { name: 'anywhere', leaderOnly: false },
      { name: 'told', leaderOnly: true },
    ]);
    expect(() => runnables.add(probe('told').runnable)).toThrow(/already exists/);
  });

  it('reports a runnable that fails while running, not one that gives up on being stopped', async () => {
    const failures: RunnableFailedError[] = [];
    const runnables = new Runnables({ logger: silentLogger, onFailure: (f) => failures.push(f) });
    runnables.add({ name: 'broken', start: () => Promise.reject(new Error('Redis gone')) });
    runnables.add({
      name: 'quitter',
      start: async (signal) => {
        await aborted(signal);
        throw signal.reason as Error;
      },
    });
    runnables.start(true);
    await tick();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(RunnableFailedError);
    expect(failures[0]!.runnable).toBe('broken');
    expect(failures[0]!.message).toBe('runnable broken failed: Redis gone');
    await runnables.stop(true, new Error('manager stopping'));
    expect(failures).toHaveLength(1);
  });
});

describe('Manager.add', () => {
  const manager = () =>
    new Manager({
      kubeConfig: new KubeConfig(),
      leaderElection: false,
      healthPort: false,
      handleSignals: false,
      logger: silentLogger,
      registry: new Registry(),
    });

  it('runs runnables until stop(), leader-only ones at once when election is off', async () => {
    const m = manager();
    const leader = probe('leader');
    const everywhere = probe('everywhere');
    m.add(leader.runnable, { leaderOnly: true });
    m.add(everywhere.runnable, { leaderOnly: false });
    const running = m.start();
    await expect.poll(() => leader.life.started).toBe(1);
    expect(everywhere.life.started).toBe(1);
    expect(m.leading).toBe(true);
    await m.stop();
    await expect(running).resolves.toBeUndefined();
    expect(leader.life.atOnce).toBe(false);
    expect(everywhere.life.atOnce).toBe(false);
    expect(() => m.add(probe('late').runnable)).toThrow(/before the manager starts/);
  });

  it('stops everything and rejects start() when a runnable fails', async () => {
    const m = manager();
    const other = probe('other');
    m.add(other.runnable);
    let fail!: (err: Error) => void;
    m.add({
      name: 'fragile',
      start: () => new Promise<void>((_resolve, reject) => (fail = reject)),
    });
    const running = m.start();
    await expect.poll(() => other.life.started).toBe(1);
    fail(new Error('LiteLLM said no'));
    await expect(running).rejects.toBeInstanceOf(RunnableFailedError);
    await expect(running).rejects.toThrow('runnable fragile failed: LiteLLM said no');
    expect(m.failure?.runnable).toBe('fragile');
    // The others were stopped gracefully, as on stop().
    expect(other.life.stoppedBy).toBe(m.failure);
    expect(other.life.atOnce).toBe(false);
  });

  it('lists the controllers it runs, a singleton loop’s among them', () => {
    const m = manager();
    const controller = m.addController({ name: 'plain', reconciler: () => Promise.resolve({}) });
    const loop = new SingletonLoop(m, { name: 'loop', pass: () => Promise.resolve(1_000) });
    m.add(loop);
    expect(m.controllers).toEqual([controller, loop.controller]);
    expect(loop.controller).toBeInstanceOf(Controller);
  });
});

describe('Controller as a runnable', () => {
  it('lets in-flight reconciles finish on a graceful stop', async () => {
    let release!: () => void;
    let signalSeen: AbortSignal | undefined;
    const controller = new Controller({
      name: 'graceful',
      reconciler: async (_request, { signal }) => {
        signalSeen = signal;
        await new Promise<void>((resolve) => (release = resolve));
        return {};
      },
    });
    controller.enqueue({ name: 'a' });
    const stop = new AbortController();
    const running = controller.start(stop.signal);
    await expect.poll(() => signalSeen).toBeDefined();
    stop.abort(new Error('manager stopping'));
    await tick();
    expect(signalSeen!.aborted).toBe(false);
    release();
    await running;
    expect(controller.queue.shuttingDown).toBe(true);
  });

  it('aborts in-flight reconciles at once when the lease is lost', async () => {
    let signalSeen: AbortSignal | undefined;
    const controller = new Controller({
      name: 'fenced',
      stopGracePeriodMs: 60_000,
      reconciler: async (_request, { signal }) => {
        signalSeen = signal;
        await aborted(signal);
        return {};
      },
    });
    controller.enqueue({ name: 'a' });
    const stop = new AbortController();
    const running = controller.start(stop.signal);
    await expect.poll(() => signalSeen).toBeDefined();
    const lost = new LeadershipLostError('lease lost');
    stop.abort(lost);
    await running;
    expect(signalSeen!.reason).toBe(lost);
  });
});

describe('SingletonLoop', () => {
  const runtime = () =>
    new Manager({
      kubeConfig: new KubeConfig(),
      leaderElection: false,
      healthPort: false,
      handleSignals: false,
      logger: silentLogger,
      registry: new Registry(),
      minRequeueAfterMs: 0,
    });

  it('runs a pass on start, again when a trigger fires, and stops listening when stopped', async () => {
    let passes = 0;
    const listeners = new Set<() => void>();
    const loop = new SingletonLoop(runtime(), {
      name: 'loop',
      pass: () => {
        passes++;
        return Promise.resolve(600_000); // the next periodic pass is far away
      },
      triggers: [
        (runNow) => {
          listeners.add(runNow);
          return () => listeners.delete(runNow);
        },
      ],
    });
    expect(listeners.size).toBe(0); // listening starts with the loop
    const stop = new AbortController();
    const running = loop.start(stop.signal);
    await expect.poll(() => passes).toBe(1);
    expect(listeners.size).toBe(1);
    for (const runNow of listeners) runNow();
    await expect.poll(() => passes).toBe(2);
    stop.abort(new Error('manager stopping'));
    await running;
    expect(listeners.size).toBe(0);
  });

  it('backs off after a failed pass and asks for the next one after the delay', async () => {
    const results: (number | Error)[] = [new Error('Redis down'), 5];
    let passes = 0;
    const loop = new SingletonLoop(runtime(), {
      name: 'retrying',
      pass: () => {
        passes++;
        const next = results.shift() ?? 600_000;
        return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
      },
      rateLimiter: { when: () => 5, forget: () => {}, retries: () => 0 },
    });
    const stop = new AbortController();
    const running = loop.start(stop.signal);
    // Failed, retried after the backoff, then run again after the 5 ms it asked for.
    await expect.poll(() => passes).toBe(3);
    await expect.poll(() => loop.controller.queue.waitingLen()).toBe(1); // the 600 s one
    await tick();
    expect(passes).toBe(3);
    stop.abort(new Error('manager stopping'));
    await running;
  });
});
