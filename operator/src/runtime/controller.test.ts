import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { Controller, DEFAULT_MIN_REQUEUE_AFTER_MS, type ReconcileContext } from './controller.ts';
import { FakeClock } from './fake-clock.ts';
import { CleanupFailedError } from './finalizers.ts';
import { runtimeMetrics } from './metrics.ts';
import { ExponentialFailureRateLimiter } from './rate-limiter.ts';
import type { Request } from './request.ts';
import { RetryAfterError, TerminalError, type Result } from './result.ts';

type Outcome = Result | Error | (() => Promise<Result>);

/** A reconciler that plays a script of outcomes per key and records every call. */
function scriptedReconciler(script: Record<string, Outcome[]> = {}) {
  const calls: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const runningKeys = new Set<string>();
  const overlaps: string[] = [];
  const reconcile = async (request: Request, _ctx: ReconcileContext): Promise<Result> => {
    const key = request.namespace ? `${request.namespace}/${request.name}` : request.name;
    calls.push(key);
    if (runningKeys.has(key)) overlaps.push(key);
    runningKeys.add(key);
    maxRunning = Math.max(maxRunning, ++running);
    try {
      const next = script[key]?.shift() ?? {};
      if (next instanceof Error) throw next;
      return typeof next === 'function' ? await next() : next;
    } finally {
      running--;
      runningKeys.delete(key);
    }
  };
  return { reconcile, calls, overlaps, maxRunning: () => maxRunning };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function setup(
  script: Record<string, Outcome[]> = {},
  options: { workers?: number; onTerminalError?: () => void } = {},
) {
  const clock = new FakeClock();
  const registry = new Registry();
  const reconciler = scriptedReconciler(script);
  const controller = new Controller({
    name: 'widgets',
    reconciler: reconciler.reconcile,
    clock,
    metrics: runtimeMetrics(registry),
    rateLimiter: new ExponentialFailureRateLimiter({ baseDelayMs: 1000 }),
    workers: options.workers,
    onTerminalError: options.onTerminalError,
  });
  const metric = async (name: string, labels: Record<string, string>) => {
    const values = (await registry.getSingleMetric(name)!.get()).values;
    return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };
  const total = (result: string) =>
    metric('controller_runtime_reconcile_total', { controller: 'widgets', result });
  /** Waits until the queue is idle: nothing ready and nothing in flight. */
  const settled = () =>
    vi.waitFor(() => {
      expect(controller.queue.len() + controller.queue.processingLen()).toBe(0);
    });
  return { clock, controller, reconciler, metric, total, settled };
}

describe('Controller result handling (reconcileHandler)', () => {
  it('success: reconciles once and forgets the backoff', async () => {
    const { controller, reconciler, total, settled } = setup();
    controller.start();
    controller.enqueue({ namespace: 'ns', name: 'a' });
    await settled();
    expect(reconciler.calls).toEqual(['ns/a']);
    expect(controller.queue.waitingLen()).toBe(0);
    expect(await total('success')).toBe(1);
    await controller.stop();
  });

  it('error: requeues with per-key exponential backoff, then success forgets it', async () => {
    const { clock, controller, reconciler, total, metric, settled } = setup({
      a: [new Error('LiteLLM down'), new Error('still down'), {}],
    });
    controller.start();
    controller.enqueue({ name: 'a' });
    await settled();
    expect(controller.queue.retries('a')).toBe(1);
    expect(controller.queue.waitingLen()).toBe(1);
    clock.advance(999); // first backoff is 1000 ms
    await settled();
    expect(reconciler.calls).toEqual(['a']);
    clock.advance(1);
    await vi.waitFor(() => expect(reconciler.calls).toEqual(['a', 'a']));
    await settled();
    expect(controller.queue.retries('a')).toBe(2);
    clock.advance(1999); // second backoff is 2000 ms
    await settled();
    expect(reconciler.calls).toHaveLength(2);
    clock.advance(1);
    await vi.waitFor(() => expect(reconciler.calls).toHaveLength(3));
    await settled();
    expect(controller.queue.retries('a')).toBe(0);
    expect(controller.queue.waitingLen()).toBe(0);
    expect(await total('error')).toBe(2);
    expect(await total('success')).toBe(1);
    expect(
      await metric('controller_runtime_reconcile_errors_total', { controller: 'widgets' }),
    ).toBe(2);
    await controller.stop();
  });

  it('requeueAfter: forgets the backoff and runs again after exactly that delay', async () => {
    const { clock, controller, reconciler, total, settled } = setup({
      a: [new Error('boom'), { requeueAfter: 60_000 }, {}],
    });
    controller.start();
    controller.enqueue({ name: 'a' });
    await settled();
    clock.advance(1000); // after the error's backoff
    await vi.waitFor(() => expect(reconciler.calls).toHaveLength(2));
    await settled();
    expect(controller.queue.retries('a')).toBe(0);
    clock.advance(59_999);
    await settled();
    expect(reconciler.calls).toHaveLength(2);
    clock.advance(1);
    await vi.waitFor(() => expect(reconciler.calls).toHaveLength(3));
    expect(await total('requeue_after')).toBe(1);
    await controller.stop();
  });

  it('terminal error: no requeue, backoff forgotten, recorded and counted', async () => {
    const recorded: string[] = [];
    const { clock, controller, reconciler, metric, settled } = setup(
      { a: [new Error('transient'), new TerminalError('spec.model is not allowed')] },
      { onTerminalError: () => void recorded.push('a') },
    );
    controller.start();
    controller.enqueue({ name: 'a' });
    await settled();
    clock.advance(1000);
    await vi.waitFor(() => expect(reconciler.calls).toHaveLength(2));
    await settled();
    clock.advance(10_000_000);
    await settled();
    expect(reconciler.calls).toHaveLength(2);
    expect(controller.queue.waitingLen()).toBe(0);
    expect(controller.queue.retries('a')).toBe(0);
    expect(recorded).toEqual(['a']);
    expect(
      await metric('controller_runtime_terminal_reconcile_errors_total', { controller: 'widgets' }),
    ).toBe(1);
    expect(
      await metric('controller_runtime_reconcile_errors_total', { controller: 'widgets' }),
    ).toBe(2);
    await controller.stop();
  });

  it('a failed cleanup is backed off, never terminal, even when its cause is', async () => {
    const cleanupFailed = () =>
      new CleanupFailedError('cleanup failed', {
        cause: new TerminalError('LiteLLM refused the delete'),
      });
    const onTerminalError = vi.fn();
    const { clock, controller, reconciler, total, settled } = setup(
      { a: [cleanupFailed(), cleanupFailed(), {}] },
      { onTerminalError },
    );
    controller.start();
    controller.enqueue({ name: 'a' });
    await settled();
    expect(controller.queue.retries('a')).toBe(1);
    clock.advance(1000);
    await vi.waitFor(() => expect(reconciler.calls).toHaveLength(2));
    await settled();
    clock.advance(2000);
    await vi.waitFor(() => expect(reconciler.calls).toHaveLength(3));
    await settled();
    expect(await total('error')).toBe(2);
    expect(await total('success')).toBe(1);
    expect(onTerminalError).not.toHaveBeenCalled();
    await controller.stop();
  });

  it('a TerminalError wrapped as a cause is still terminal', async () => {
    const { controller, reconciler, settled } = setup({
      a: [new Error('creating team', { cause: new TerminalError('400 from LiteLLM') })],
    });
    controller.start();
    controller.enqueue({ name: 'a' });
    await settled();
    expect(reconciler.calls).toHaveLength(1);
    expect(controller.queue.waitingLen()).toBe(0);
    await controller.stop();
  });

  it('Retry-After: waits exactly the asked delay instead of the backoff', async () => {
    const { clock, controller, reconciler, total, settled } = setup({
      a: [new RetryAfterError(30_000), {}],
    });
    controller.start();
    controller.enqueue({ name: 'a' });
    await settled();
    expect(await total('error')).toBe(1);
    clock.advance(29_999);
    await settled();
    expect(reconciler.calls).toHaveLength(1);
    clock.advance(1);
    await vi.waitFor(() => expect(reconciler.calls).toHaveLength(2));
    await controller.stop();
  });

  it('requeue: true requeues with backoff without counting an error', async () => {
    const { controller, total, settled } = setup({ a: [{ requeue: true }] });
    controller.start();
    controller.enqueue({ name: 'a' });
    await settled();
    expect(controller.queue.retries('a')).toBe(1);
    expect(await total('requeue')).toBe(1);
    expect(await total('error')).toBe(0);
    await controller.stop();
  });
});

describe('Controller concurrency', () => {
  it('runs different keys in parallel up to the worker count, one reconcile per key', async () => {
    const gate = deferred();
    const blocked = () => gate.promise.then(() => ({}));
    const { controller, reconciler, metric, settled } = setup(
      { a: [blocked, {}], b: [blocked], c: [blocked], d: [blocked] },
      { workers: 3 },
    );
    controller.start();
    for (const name of ['a', 'b', 'c', 'd']) controller.enqueue({ name });
    await vi.waitFor(() => expect(reconciler.calls).toHaveLength(3));
    expect(await metric('controller_runtime_active_workers', { controller: 'widgets' })).toBe(3);
    expect(
      await metric('controller_runtime_max_concurrent_reconciles', { controller: 'widgets' }),
    ).toBe(3);
    controller.enqueue({ name: 'a' }); // 'a' is running: must wait, not run beside itself
    controller.enqueue({ name: 'a' });
    gate.resolve();
    await settled();
    expect(reconciler.overlaps).toEqual([]);
    expect(reconciler.maxRunning()).toBe(3);
    expect(reconciler.calls.filter((k) => k === 'a')).toHaveLength(2);
    expect(reconciler.calls.toSorted()).toEqual(['a', 'a', 'b', 'c', 'd']);
    await controller.stop();
  });

  it('stop() waits for in-flight reconciles and starts no new ones', async () => {
    const gate = deferred();
    let finished = false;
    const slow = () =>
      gate.promise.then(() => {
        finished = true;
        return {};
      });
    const { controller, reconciler } = setup({ a: [slow] });
    controller.start();
    controller.enqueue({ name: 'a' });
    await vi.waitFor(() => expect(reconciler.calls).toHaveLength(1));
    controller.enqueue({ name: 'b' }); // queued, but the controller stops before a worker is free
    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(finished).toBe(true);
    expect(reconciler.calls).toEqual(['a']);
  });

  it('aborts the reconcile signal when the grace period is over', async () => {
    const clock = new FakeClock();
    let signal: AbortSignal | undefined;
    const controller = new Controller({
      name: 'slow',
      clock,
      stopGracePeriodMs: 5000,
      reconciler: (_req, ctx) =>
        new Promise<Result>((resolve) => {
          signal = ctx.signal;
          ctx.signal.addEventListener('abort', () => resolve({}));
        }),
    });
    controller.start();
    controller.enqueue({ name: 'x' });
    await vi.waitFor(() => expect(signal).toBeDefined());
    const stopping = controller.stop();
    await new Promise((r) => setImmediate(r));
    expect(signal!.aborted).toBe(false);
    clock.advance(5000);
    await stopping;
    expect(signal!.aborted).toBe(true);
  });
});

describe('Controller requeue floor', () => {
  const DAY_MS = 24 * 60 * 60 * 1000;

  /**
   * Runs `controller` on `clock` for a simulated day, jumping from timer to timer, and
   * returns how far time got. Gives up after `maxSteps` jumps: without a floor a 1 ms
   * requeue would need 86 million of them, so time would fall far short of a day.
   */
  async function simulateDay(
    clock: FakeClock,
    controller: Controller,
    maxSteps: number,
  ): Promise<number> {
    const start = clock.now();
    // Turns of the event loop until nothing is queued or running (a reconcile here resolves
    // at once, so a few turns do); vi.waitFor's 50 ms polls would make a day take hours.
    const idle = async () => {
      for (let turn = 0; turn < 100; turn++) {
        if (controller.queue.len() + controller.queue.processingLen() === 0) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
      throw new Error('the controller did not settle');
    };
    await idle();
    for (let step = 0; step < maxSteps; step++) {
      const due = clock.nextTimerDueIn();
      if (due === undefined || clock.now() + due - start > DAY_MS) break;
      clock.advance(due);
      await idle();
    }
    return clock.now() - start;
  }

  function looping(outcome: () => Result, options: { minRequeueAfterMs?: number } = {}) {
    const clock = new FakeClock();
    let calls = 0;
    const controller = new Controller({
      name: 'hot',
      clock,
      ...options,
      reconciler: () => {
        calls++;
        return Promise.resolve(outcome());
      },
    });
    return { clock, controller, calls: () => calls };
  }

  it('a reconciler that always asks for 1 ms runs at most once a second for a day', async () => {
    const { clock, controller, calls } = looping(() => ({ requeueAfter: 1 }));
    controller.start();
    controller.enqueue({ name: 'a' });
    const bound = DAY_MS / DEFAULT_MIN_REQUEUE_AFTER_MS + 1;
    const elapsed = await simulateDay(clock, controller, bound + 10);
    expect(elapsed).toBeGreaterThan(DAY_MS - DEFAULT_MIN_REQUEUE_AFTER_MS);
    expect(calls()).toBeLessThanOrEqual(bound);
    await controller.stop();
  });

  it('the floor is configurable, and applies to Retry-After delays too', async () => {
    const { clock, controller, calls } = looping(
      () => {
        throw new RetryAfterError(1);
      },
      { minRequeueAfterMs: 60_000 },
    );
    controller.start();
    controller.enqueue({ name: 'a' });
    const bound = DAY_MS / 60_000 + 1;
    const elapsed = await simulateDay(clock, controller, bound + 10);
    expect(elapsed).toBeGreaterThan(DAY_MS - 60_000);
    expect(calls()).toBeLessThanOrEqual(bound);
    await controller.stop();
  });

  it('delays at or above the floor are kept exactly', async () => {
    const { clock, controller, calls } = looping(() => ({ requeueAfter: 1500 }));
    controller.start();
    controller.enqueue({ name: 'a' });
    await vi.waitFor(() => expect(calls()).toBe(1));
    expect(clock.nextTimerDueIn()).toBe(1500);
    await controller.stop();
  });
});
