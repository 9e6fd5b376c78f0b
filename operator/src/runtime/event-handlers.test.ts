import { describe, expect, it } from 'vitest';
import { enqueueMapped, enqueueObject, generationChanged } from './event-handlers.ts';
import type { KubeObject } from './object.ts';
import type { Request } from './request.ts';

const team = (meta: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 't', generation: 1, resourceVersion: '1', ...meta },
});

function collector() {
  const requests: Request[] = [];
  return { requests, enqueue: (r: Request) => requests.push(r) };
}

describe('generationChanged', () => {
  it('drops status-only and label-only updates', () => {
    expect(generationChanged(team(), team({ resourceVersion: '2' }))).toBe(false);
    expect(generationChanged(team(), team({ labels: { a: 'b' } }))).toBe(false);
  });

  it('keeps spec changes, deletion, finalizer and annotation changes', () => {
    expect(generationChanged(team(), team({ generation: 2 }))).toBe(true);
    expect(generationChanged(team(), team({ deletionTimestamp: '2030-01-01T00:00:00Z' }))).toBe(
      true,
    );
    expect(generationChanged(team(), team({ finalizers: ['llmtenancy.dev/cleanup'] }))).toBe(true);
    expect(
      generationChanged(team(), team({ annotations: { 'llmtenancy.dev/rotate': 'now' } })),
    ).toBe(true);
  });
});

describe('enqueueObject', () => {
  it('enqueues the object itself on every event, namespaced or not', () => {
    const c = collector();
    const h = enqueueObject(c);
    h.add!({ metadata: { name: 'k', namespace: 'ns' } });
    h.delete!(team());
    expect(c.requests).toEqual([{ namespace: 'ns', name: 'k' }, { name: 't' }]);
  });

  it('applies the update predicate to updates but never to resyncs', () => {
    const c = collector();
    const h = enqueueObject(c, { updatePredicate: generationChanged });
    h.update!(team(), team({ resourceVersion: '2' }));
    expect(c.requests).toEqual([]);
    h.update!(team(), team({ generation: 2 }));
    h.resync!(team());
    expect(c.requests).toHaveLength(2);
  });

  it('filters objects', () => {
    const c = collector();
    const h = enqueueObject(c, { filter: (o) => o.metadata?.name !== 'skip' });
    h.add!({ metadata: { name: 'skip' } });
    h.add!({ metadata: { name: 'keep' } });
    expect(c.requests).toEqual([{ name: 'keep' }]);
  });
});

describe('enqueueMapped', () => {
  it('maps both the old and the new object on update, without duplicates', () => {
    const c = collector();
    const keysIn = (o: KubeObject) =>
      ((o.metadata?.annotations?.ns ?? '').split(',').filter(Boolean) as string[]).map(
        (namespace) => ({
          namespace,
          name: 'key',
        }),
      );
    const h = enqueueMapped(c, keysIn);
    h.update!(team({ annotations: { ns: 'a,b' } }), team({ annotations: { ns: 'b,c' } }));
    expect(c.requests).toEqual([
      { namespace: 'a', name: 'key' },
      { namespace: 'b', name: 'key' },
      { namespace: 'c', name: 'key' },
    ]);
  });
});
