// The informer's supervisor against a scripted ListWatcher: what it does on each way a list
// or watch can end. The same behaviour against a real API server is in
// test/integration/runtime-informer.test.ts.
import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from './fake-clock.ts';
import { Informer, type ListPage, type ListWatcher } from './informer.ts';
import type { KubeStatus, WatchEvent } from './kube-http.ts';
import type { KubeObject } from './object.ts';

interface Obj extends KubeObject {
  data?: string;
}
const obj = (name: string, rv: string, data = ''): Obj => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: 'ns', name, resourceVersion: rv },
  data,
});

/** A watch stream the test feeds by hand. */
class Stream {
  readonly #events: (WatchEvent<Obj | KubeStatus> | Error | 'end')[] = [];
  #wake: (() => void) | undefined;
  push(e: WatchEvent<Obj | KubeStatus> | Error | 'end') {
    this.#events.push(e);
    this.#wake?.();
  }
  async *iterate(signal: AbortSignal): AsyncGenerator<WatchEvent<Obj | KubeStatus>> {
    const aborted = new Promise<never>((_, reject) => {
      const fail = () => reject(signal.reason as Error);
      if (signal.aborted) fail();
      else signal.addEventListener('abort', fail, { once: true });
    });
    aborted.catch(() => {});
    for (;;) {
      if (this.#events.length === 0) {
        await Promise.race([new Promise<void>((r) => (this.#wake = r)), aborted]);
        continue;
      }
      const next = this.#events.shift()!;
      if (next === 'end') return;
      if (next instanceof Error) throw next;
      yield next;
    }
  }
}

function fakeListWatcher() {
  const lists: ListPage<Obj>[][] = [];
  const watches: { resourceVersion: string; stream: Stream }[] = [];
  let listCalls = 0;
  const lw: ListWatcher<Obj> = {
    async list({ continue: token }) {
      const pages = lists[0];
      if (!pages) throw new Error('no list scripted');
      const index = token ? Number(token) : 0;
      if (index === 0) listCalls++;
      const page = pages[index]!;
      if (index === pages.length - 1) lists.shift();
      return page;
    },
    watch({ resourceVersion, signal }) {
      const stream = new Stream();
      watches.push({ resourceVersion, stream });
      return stream.iterate(signal);
    },
  };
  return {
    lw,
    watches,
    listCalls: () => listCalls,
    /** Scripts the next list: pages of items, the last page carrying `rv`. */
    nextList(rv: string, ...pages: Obj[][]) {
      lists.push(
        pages.map((items, i) => ({
          items,
          metadata: {
            resourceVersion: rv,
            ...(i < pages.length - 1 ? { continue: String(i + 1) } : {}),
          },
        })),
      );
    },
    currentWatch: () => watches.at(-1)!,
  };
}

function recorder() {
  const events: string[] = [];
  return {
    events,
    handler: {
      add: (o: Obj) => events.push(`add ${o.metadata!.name}@${o.metadata!.resourceVersion}`),
      update: (old: Obj, o: Obj) =>
        events.push(
          `update ${o.metadata!.name}@${old.metadata!.resourceVersion}->${o.metadata!.resourceVersion}`,
        ),
      delete: (o: Obj) => events.push(`delete ${o.metadata!.name}`),
    },
  };
}

function setup(options: { stallTimeoutMs?: number; resyncPeriodMs?: number } = {}) {
  const clock = new FakeClock();
  const fake = fakeListWatcher();
  const informer = new Informer<Obj>({
    listWatcher: fake.lw,
    description: 'test',
    clock,
    pageSize: 2,
    backoff: { initialMs: 1000, maxMs: 8000, random: () => 0 },
    stallTimeoutMs: options.stallTimeoutMs ?? 60_000,
    resyncPeriodMs: options.resyncPeriodMs,
  });
  return { clock, fake, informer };
}

describe('Informer', () => {
  it('lists every page, delivers adds, syncs, then watches from the list resourceVersion', async () => {
    const { fake, informer } = setup();
    const rec = recorder();
    informer.addEventHandler(rec.handler);
    fake.nextList('10', [obj('a', '1'), obj('b', '2')], [obj('c', '3')]);
    informer.start();
    await informer.waitForSync();
    expect(informer.hasSynced()).toBe(true);
    expect(rec.events).toEqual(['add a@1', 'add b@2', 'add c@3']);
    await vi.waitFor(() => expect(fake.watches).toHaveLength(1));
    expect(fake.currentWatch().resourceVersion).toBe('10');
    expect(informer.store.getByName('c', 'ns')?.metadata?.resourceVersion).toBe('3');
    await informer.stop();
  });

  it('applies watch events to the cache and advances the resourceVersion, bookmarks included', async () => {
    const { fake, informer } = setup();
    const rec = recorder();
    informer.addEventHandler(rec.handler);
    fake.nextList('10', [obj('a', '1')]);
    informer.start();
    await vi.waitFor(() => expect(fake.watches).toHaveLength(1));
    const w = fake.currentWatch().stream;
    w.push({ type: 'ADDED', object: obj('b', '11') });
    w.push({ type: 'MODIFIED', object: obj('a', '12', 'x') });
    w.push({ type: 'DELETED', object: obj('b', '13') });
    w.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '20' } } as Obj });
    await vi.waitFor(() => expect(informer.stats.resourceVersion).toBe('20'));
    expect(rec.events).toEqual(['add a@1', 'add b@11', 'update a@1->12', 'delete b']);
    expect(informer.store.keys()).toEqual(['ns/a']);
    expect(informer.store.getByName('a', 'ns')?.data).toBe('x');
    // The server ends the watch (timeoutSeconds): watch again from the bookmark, no relist.
    w.push('end');
    await vi.waitFor(() => expect(fake.watches).toHaveLength(2));
    expect(fake.currentWatch().resourceVersion).toBe('20');
    expect(fake.listCalls()).toBe(1);
    await informer.stop();
  });

  it('relists on 410 Gone and reports what changed meanwhile as add/update/delete', async () => {
    const { clock, fake, informer } = setup();
    const rec = recorder();
    informer.addEventHandler(rec.handler);
    fake.nextList('10', [obj('a', '1'), obj('b', '2')]);
    informer.start();
    await vi.waitFor(() => expect(fake.watches).toHaveLength(1));
    fake.nextList('30', [obj('a', '1'), obj('c', '25')], [obj('b', '22')]);
    fake.currentWatch().stream.push({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' },
    });
    await vi.waitFor(() => expect(fake.watches).toHaveLength(2));
    expect(fake.listCalls()).toBe(2);
    expect(fake.currentWatch().resourceVersion).toBe('30');
    expect(rec.events.slice(2)).toEqual(['add c@25', 'update b@2->22']);

    fake.nextList('40', [obj('c', '25')]);
    fake.currentWatch().stream.push({ type: 'ERROR', object: { kind: 'Status', code: 410 } });
    // Gone again before any event: relisting in a tight loop would hammer the server, so
    // the second relist waits for the backoff.
    await vi.waitFor(() => expect(clock.nextTimerDueIn()).toBe(1000));
    expect(fake.listCalls()).toBe(2);
    clock.advance(1000);
    await vi.waitFor(() => expect(fake.watches).toHaveLength(3));
    expect(rec.events.slice(4).toSorted()).toEqual(['delete a', 'delete b']);
    await informer.stop();
  });

  it('restarts a failed watch from the last resourceVersion after a growing backoff', async () => {
    const { clock, fake, informer } = setup();
    fake.nextList('10', [obj('a', '1')]);
    informer.start();
    await vi.waitFor(() => expect(fake.watches).toHaveLength(1));
    fake.currentWatch().stream.push({ type: 'MODIFIED', object: obj('a', '15') });
    fake.currentWatch().stream.push(new TypeError('terminated: other side closed'));
    await vi.waitFor(() => expect(clock.nextTimerDueIn()).toBe(1000)); // the backoff, not the watchdog
    clock.advance(999);
    await new Promise((r) => setImmediate(r));
    expect(fake.watches).toHaveLength(1);
    clock.advance(1); // first backoff: 1000 ms
    await vi.waitFor(() => expect(fake.watches).toHaveLength(2));
    expect(fake.currentWatch().resourceVersion).toBe('15');
    fake.currentWatch().stream.push(new TypeError('terminated'));
    await vi.waitFor(() => expect(clock.nextTimerDueIn()).toBe(2000));
    clock.advance(1999);
    await new Promise((r) => setImmediate(r));
    expect(fake.watches).toHaveLength(2);
    clock.advance(1); // second backoff: 2000 ms
    await vi.waitFor(() => expect(fake.watches).toHaveLength(3));
    expect(fake.listCalls()).toBe(1);
    await informer.stop();
  });

  it('restarts a watch that stays silent past the stall timeout', async () => {
    const { clock, fake, informer } = setup({ stallTimeoutMs: 60_000 });
    fake.nextList('10', [obj('a', '1')]);
    informer.start();
    await vi.waitFor(() => expect(fake.watches).toHaveLength(1));
    clock.advance(30_000);
    fake
      .currentWatch()
      .stream.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '11' } } as Obj });
    await vi.waitFor(() => expect(informer.stats.resourceVersion).toBe('11'));
    clock.advance(59_000); // 59 s since the bookmark: still alive
    await new Promise((r) => setImmediate(r));
    expect(fake.watches).toHaveLength(1);
    clock.advance(1000); // silent for 60 s: the watchdog cuts it
    await vi.waitFor(() => expect(clock.nextTimerDueIn()).toBe(1000));
    clock.advance(1000); // backoff
    await vi.waitFor(() => expect(fake.watches).toHaveLength(2));
    expect(fake.currentWatch().resourceVersion).toBe('11');
    await informer.stop();
  });

  it('resyncs every cached object to handlers periodically, as resync (or update when absent)', async () => {
    const { clock, fake, informer } = setup({ resyncPeriodMs: 10_000 });
    const resynced: string[] = [];
    const updated: string[] = [];
    informer.addEventHandler({ resync: (o) => resynced.push(o.metadata!.name!) });
    informer.addEventHandler({ update: (a, b) => updated.push(`${a.metadata!.name}=${a === b}`) });
    fake.nextList('10', [obj('a', '1'), obj('b', '2')]);
    informer.start();
    await informer.waitForSync();
    clock.advance(11_000); // 10 s + up to 10 % jitter
    expect(resynced.toSorted()).toEqual(['a', 'b']);
    expect(updated.toSorted()).toEqual(['a=true', 'b=true']);
    await informer.stop();
  });

  it('replays the cache as adds to a handler registered after sync', async () => {
    const { fake, informer } = setup();
    fake.nextList('10', [obj('a', '1')]);
    informer.start();
    await informer.waitForSync();
    const rec = recorder();
    informer.addEventHandler(rec.handler);
    expect(rec.events).toEqual(['add a@1']);
    await informer.stop();
  });

  it('keeps delivering to other handlers when one throws, and freezes cached objects', async () => {
    const { fake, informer } = setup();
    const rec = recorder();
    informer.addEventHandler({
      add: () => {
        throw new Error('bad handler');
      },
    });
    informer.addEventHandler(rec.handler);
    fake.nextList('10', [obj('a', '1')]);
    informer.start();
    await informer.waitForSync();
    expect(rec.events).toEqual(['add a@1']);
    const cached = informer.store.getByName('a', 'ns')!;
    expect(Object.isFrozen(cached.metadata)).toBe(true);
    await informer.stop();
  });

  it('retries a failing list with backoff until it succeeds', async () => {
    const { clock, fake, informer } = setup();
    informer.start(); // nothing scripted: the first list throws
    await vi.waitFor(() => expect(clock.pendingTimers).toBeGreaterThan(0));
    expect(informer.hasSynced()).toBe(false);
    fake.nextList('5', [obj('a', '1')]);
    clock.advance(1000);
    await informer.waitForSync();
    expect(informer.store.size).toBe(1);
    await informer.stop();
  });

  it('waitForSync rejects when the informer stops first', async () => {
    const { informer } = setup();
    const waiting = informer.waitForSync();
    await informer.stop();
    await expect(waiting).rejects.toThrow(/stopped before the cache synced/);
  });
});
