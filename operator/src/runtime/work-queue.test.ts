import { describe, expect, it } from 'vitest';
import { FakeClock } from './fake-clock.ts';
import { ExponentialFailureRateLimiter } from './rate-limiter.ts';
import { WorkQueue, type InFlightWork, type WorkQueueMetricsProvider } from './work-queue.ts';

const newQueue = (clock = new FakeClock()) =>
  new WorkQueue<string>({
    name: 'test',
    clock,
    rateLimiter: new ExponentialFailureRateLimiter({ baseDelayMs: 100 }),
  });

/** The state of a promise without waiting for it. */
async function peek<T>(promise: Promise<T>): Promise<{ settled: boolean; value?: T }> {
  const marker = Symbol('pending');
  const value = await Promise.race([
    promise,
    new Promise<typeof marker>((r) => setImmediate(() => r(marker))),
  ]);
  return value === marker ? { settled: false } : { settled: true, value: value as T };
}

describe('WorkQueue', () => {
  it('hands out items in FIFO order', async () => {
    const q = newQueue();
    q.add('a');
    q.add('b');
    expect([await q.get(), await q.get()]).toEqual(['a', 'b']);
  });

  it('de-duplicates: an item added many times while waiting is handed out once', async () => {
    const q = newQueue();
    for (let i = 0; i < 5; i++) q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(await peek(q.get())).toEqual({ settled: false });
  });

  it('never hands an item being processed to a second worker', async () => {
    const q = newQueue();
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a'); // an event arrives while 'a' is being reconciled
    const second = q.get();
    expect(await peek(second)).toEqual({ settled: false });
    expect(q.len()).toBe(0);
    q.done('a');
    expect(await second).toBe('a');
  });

  it('processes an item re-added while processing exactly once more after done()', async () => {
    const q = newQueue();
    q.add('a');
    await q.get();
    q.add('a');
    q.add('a');
    q.add('a');
    q.done('a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
    expect(await peek(q.get())).toEqual({ settled: false });
  });

  it('does not re-queue an item that was not re-added while processing', async () => {
    const q = newQueue();
    q.add('a');
    await q.get();
    q.done('a');
    expect(q.len() + q.processingLen()).toBe(0);
  });

  it('resolves a waiting get() when an item arrives', async () => {
    const q = newQueue();
    const got = q.get();
    q.add('x');
    expect(await got).toBe('x');
  });

  it('delays addAfter items until their time, earliest first', async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.addAfter('late', 300);
    q.addAfter('early', 100);
    q.addAfter('middle', 200);
    expect(q.len()).toBe(0);
    expect(q.waitingLen()).toBe(3);
    clock.advance(99);
    expect(q.len()).toBe(0);
    clock.advance(150); // t = 249
    expect(q.len()).toBe(2);
    expect([await q.get(), await q.get()]).toEqual(['early', 'middle']);
    clock.advance(1000);
    expect(await q.get()).toBe('late');
  });

  it('keeps one waiting entry per item: the earlier ready time wins', async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.addAfter('a', 1000);
    q.addAfter('a', 100); // earlier: moves it forward
    q.addAfter('a', 5000); // later: ignored
    expect(q.waitingLen()).toBe(1);
    clock.advance(100);
    expect(await q.get()).toBe('a');
    q.done('a');
    clock.advance(10_000);
    expect(q.len()).toBe(0);
  });

  it('adds at once for addAfter with no delay', async () => {
    const q = newQueue();
    q.addAfter('now', 0);
    expect(await q.get()).toBe('now');
  });

  it('collapses a delayed add into the item already queued', async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.add('a');
    q.addAfter('a', 50);
    clock.advance(50);
    expect(q.len()).toBe(1);
  });

  it('backs off rate-limited adds per item and starts over after forget', async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.addRateLimited('a'); // 100 ms
    clock.advance(99);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    q.addRateLimited('a'); // 200 ms
    clock.advance(199);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.retries('a')).toBe(2);
    q.forget('a');
    expect(q.retries('a')).toBe(0);
  });

  it('on shutDown ignores adds, drops delayed adds, and ends idle get()s', async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const idle = q.get();
    q.addAfter('delayed', 10);
    q.shutDown();
    expect(await idle).toBeUndefined();
    q.add('ignored');
    clock.advance(100);
    expect(q.len()).toBe(0);
    expect(await q.get()).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('still hands out what was queued before shutDown, like client-go', async () => {
    const q = newQueue();
    q.add('a');
    q.shutDown();
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBeUndefined();
  });

  it('shutDownWithDrain waits until every handed-out item is done', async () => {
    const q = newQueue();
    q.add('a');
    q.add('b');
    await q.get();
    await q.get();
    const drained = q.shutDownWithDrain();
    q.done('a');
    expect(await peek(drained)).toEqual({ settled: false });
    q.done('b');
    expect(await peek(drained)).toEqual({ settled: true, value: undefined });
  });

  it('reports client-go metric events and the in-flight work at scrape time', async () => {
    const clock = new FakeClock();
    const events: string[] = [];
    let inFlight: () => InFlightWork = () => ({
      unfinishedWorkSeconds: -1,
      longestRunningProcessorSeconds: -1,
    });
    const metrics: WorkQueueMetricsProvider = {
      forQueue(name, read) {
        inFlight = read;
        events.push(`queue ${name}`);
        return {
          added: () => events.push('added'),
          handedOut: (s) => events.push(`handedOut ${s}`),
          done: (s) => events.push(`done ${s}`),
          retried: () => events.push('retried'),
        };
      },
    };
    const q = new WorkQueue<string>({ name: 'm', clock, metrics });
    q.add('a');
    q.add('a'); // duplicate: not an add
    q.add('b');
    clock.advance(2000);
    await q.get();
    await q.get();
    clock.advance(3000);
    expect(inFlight()).toEqual({ unfinishedWorkSeconds: 6, longestRunningProcessorSeconds: 3 });
    q.done('a');
    q.addAfter('c', 10);
    expect(events).toEqual([
      'queue m',
      'added',
      'added',
      'handedOut 2',
      'handedOut 2',
      'done 3',
      'retried',
    ]);
  });
});
