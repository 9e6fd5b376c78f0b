import { describe, expect, it } from 'vitest';
import type { VirtualKey } from '../../../crds/api/index.ts';
import type { KeyPolicy } from '../../../contracts/routing/schema.ts';
import { ObjectStore } from '../runtime/cache.ts';
import { ownerIsLive } from './routing-sync.ts';

const virtualKey = (namespace: string, name: string, uid: string): VirtualKey => ({
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'VirtualKey',
  metadata: { namespace, name, uid },
  spec: {} as VirtualKey['spec'],
});

const ownedBy = (namespace: string, name: string, uid: string) =>
  ({ owner: { namespace, name, uid } }) as KeyPolicy;

describe('ownerIsLive', () => {
  const store = new ObjectStore<VirtualKey>();
  store.set(virtualKey('ml', 'chatbot', 'uid-1'));
  const isLive = ownerIsLive(store);

  it('is true for the VirtualKey with that namespace, name and uid', () => {
    expect(isLive(ownedBy('ml', 'chatbot', 'uid-1'))).toBe(true);
  });

  it('is false for a VirtualKey recreated under the same name (another uid)', () => {
    expect(isLive(ownedBy('ml', 'chatbot', 'uid-0'))).toBe(false);
  });

  it('is false when no VirtualKey has that name in that namespace', () => {
    expect(isLive(ownedBy('other', 'chatbot', 'uid-1'))).toBe(false);
    expect(isLive(ownedBy('ml', 'gone', 'uid-1'))).toBe(false);
  });
});
