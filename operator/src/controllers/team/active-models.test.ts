import { describe, expect, it } from 'vitest';
import type { ModelSubscription } from '../../../../crds/api/index.ts';
import { activeModels } from './active-models.ts';

type Sub = Pick<ModelSubscription, 'spec' | 'status'>;
const sub = (model: string, status?: Sub['status']): Sub => ({
  spec: { model, suspended: false },
  status,
});

describe('activeModels', () => {
  const byNamespace: Record<string, Sub[]> = {
    apps: [
      sub('granite-3-8b', { phase: 'Active', team: 'ml' }),
      sub('llama-3-8b', { phase: 'Pending', team: 'ml' }),
      sub('mistral-7b', { phase: 'Active' }),
      sub('granite-3-8b', { phase: 'Active', team: 'ml' }),
    ],
    batch: [sub('whisper', { phase: 'Active', team: 'ml' }), sub('no-status')],
    shared: [sub('gpt-test', { phase: 'Active', team: 'other' })],
  };
  const subscriptionsIn = (ns: string) => byNamespace[ns] ?? [];

  it('is the sorted union of the Active subscriptions in the Team’s namespaces', () => {
    expect(activeModels('ml', ['batch', 'apps'], subscriptionsIn)).toEqual([
      'granite-3-8b',
      'mistral-7b',
      'whisper',
    ]);
  });

  it('skips subscriptions that say they belong to another Team (a contested namespace)', () => {
    expect(activeModels('ml', ['shared'], subscriptionsIn)).toEqual([]);
    expect(activeModels('other', ['shared'], subscriptionsIn)).toEqual(['gpt-test']);
  });

  it('is empty for a Team without namespaces or Active subscriptions', () => {
    expect(activeModels('ml', [], subscriptionsIn)).toEqual([]);
    expect(activeModels('ml', ['unknown'], subscriptionsIn)).toEqual([]);
  });
});
