import { describe, expect, it } from 'vitest';
import type { Condition } from '../../crds/api/index.ts';
import { isReady } from './conditions.ts';

const ready = (observedGeneration?: number): Condition => ({
  type: 'Ready',
  status: 'True',
  reason: 'KeyReady',
  message: '',
  lastTransitionTime: '2026-01-01T00:00:00Z',
  ...(observedGeneration === undefined ? {} : { observedGeneration }),
});

describe('isReady', () => {
  it('counts Ready=True only when it was computed from the current generation', () => {
    expect(isReady({ metadata: { generation: 2 }, status: { conditions: [ready(2)] } })).toBe(true);
    // The spec changed (generation 3) and the operator has not looked yet: not an answer.
    expect(isReady({ metadata: { generation: 3 }, status: { conditions: [ready(2)] } })).toBe(
      false,
    );
    expect(
      isReady({
        metadata: { generation: 3 },
        status: { observedGeneration: 2, conditions: [ready()] },
      }),
    ).toBe(false);
    expect(isReady({ metadata: { generation: 1 }, status: { conditions: [ready()] } })).toBe(true);
    expect(isReady({ metadata: { generation: 1 }, status: {} })).toBe(false);
  });
});
