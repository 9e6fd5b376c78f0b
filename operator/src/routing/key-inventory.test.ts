import { describe, expect, it } from 'vitest';
import type { VirtualKey } from '../../../crds/api/index.ts';
import { aVirtualKey } from '../../../test/fixtures/builders.ts';
import { ObjectStore } from '../runtime/cache.ts';
import { silentLogger } from '../runtime/logger.ts';
import { TerminalError } from '../runtime/result.ts';
import { KeyInventory } from './key-inventory.ts';

const key = (name: string) => aVirtualKey(name).inNamespace('ns').build<VirtualKey>();
const context = { signal: new AbortController().signal, log: silentLogger };

function inventoryOf(names: string[], synced = true) {
  const store = new ObjectStore<VirtualKey>();
  store.replace(names.map(key));
  let isSynced = synced;
  const inventory = new KeyInventory(store, () => isSynced);
  return { store, inventory, sync: () => (isSynced = true) };
}

describe('KeyInventory', () => {
  it('is complete once every cached key came to a decision: returned, or failed for good', async () => {
    const { inventory } = inventoryOf(['a', 'b', 'c']);
    let completions = 0;
    inventory.onComplete(() => completions++);
    const reconciler = inventory.observe({
      reconcile: async ({ name }) => {
        if (name === 'b') throw new TerminalError('invalid');
        if (name === 'c') throw new Error('LiteLLM is down');
        return {};
      },
    });
    await reconciler.reconcile({ namespace: 'ns', name: 'a' }, context);
    await expect(reconciler.reconcile({ namespace: 'ns', name: 'b' }, context)).rejects.toThrow();
    // A retryable failure: that key's record may be unknown yet.
    await expect(reconciler.reconcile({ namespace: 'ns', name: 'c' }, context)).rejects.toThrow();
    expect(inventory.complete).toBe(false);
    expect(inventory.progress).toEqual({ reconciled: 2, keys: 3 });

    const retried = inventory.observe({ reconcile: async () => ({}) });
    await retried.reconcile({ namespace: 'ns', name: 'c' }, context);
    expect(completions).toBe(1);
    expect(inventory.complete).toBe(true);
  });

  it('is never complete before the cache has synced (an empty cache knows no keys)', async () => {
    const { inventory, sync } = inventoryOf([], false);
    expect(inventory.complete).toBe(false);
    sync();
    expect(inventory.complete).toBe(true);
  });

  it('stays complete once complete, whatever keys come later', async () => {
    const { inventory, store } = inventoryOf([]);
    expect(inventory.complete).toBe(true);
    store.replace([key('new')]);
    expect(inventory.complete).toBe(true);
  });

  it('needs keys created meanwhile too', async () => {
    const { inventory, store } = inventoryOf(['a']);
    const reconciler = inventory.observe({ reconcile: async () => ({}) });
    store.replace([key('a'), key('b')]);
    await reconciler.reconcile({ namespace: 'ns', name: 'a' }, context);
    expect(inventory.complete).toBe(false);
    await reconciler.reconcile({ namespace: 'ns', name: 'b' }, context);
    expect(inventory.complete).toBe(true);
  });
});
