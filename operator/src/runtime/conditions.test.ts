import { describe, expect, it } from 'vitest';
import {
  boundMessage,
  getCondition,
  isConditionTrue,
  MAX_MESSAGE_LENGTH,
  metaTime,
  removeCondition,
  setCondition,
  setConditions,
  type Condition,
} from './conditions.ts';

const t0 = new Date('2030-01-01T00:00:00.123Z');
const t1 = new Date('2030-01-01T01:00:00Z');
const ready = (status: 'True' | 'False' | 'Unknown', reason = 'Reconciled', message = '') => ({
  type: 'Ready',
  status,
  reason,
  message,
  observedGeneration: 1,
});

describe('setCondition', () => {
  it('adds a new condition with the transition time in metav1.Time format', () => {
    expect(setCondition(undefined, ready('True'), t0)).toEqual([
      {
        type: 'Ready',
        status: 'True',
        observedGeneration: 1,
        lastTransitionTime: '2030-01-01T00:00:00Z',
        reason: 'Reconciled',
        message: '',
      },
    ]);
  });

  it('keeps lastTransitionTime when only reason, message or generation change', () => {
    const first = setCondition([], ready('False', 'Waiting', 'user alice is not Ready'), t0);
    const second = setCondition(
      first,
      { ...ready('False', 'LiteLLMUnavailable', 'connection refused'), observedGeneration: 2 },
      t1,
    );
    expect(second[0]).toMatchObject({
      status: 'False',
      reason: 'LiteLLMUnavailable',
      message: 'connection refused',
      observedGeneration: 2,
      lastTransitionTime: '2030-01-01T00:00:00Z',
    });
  });

  it('moves lastTransitionTime when status changes', () => {
    const first = setCondition([], ready('False'), t0);
    expect(setCondition(first, ready('True'), t1)[0]!.lastTransitionTime).toBe(
      '2030-01-01T01:00:00Z',
    );
  });

  it('is idempotent: the same update twice gives an equal array', () => {
    const once = setCondition([], ready('True'), t0);
    expect(setCondition(once, ready('True'), t1)).toEqual(once);
  });

  it('keeps the order of existing conditions and appends new ones', () => {
    let c = setConditions(
      [],
      [ready('True'), { type: 'Synced', status: 'True', reason: 'Synced' }],
      t0,
    );
    c = setCondition(c, { type: 'Ready', status: 'False', reason: 'Failed' }, t1);
    c = setCondition(c, { type: 'MembersSynced', status: 'Unknown', reason: 'Pending' }, t1);
    expect(c.map((x) => x.type)).toEqual(['Ready', 'Synced', 'MembersSynced']);
  });

  it('keeps the previous observedGeneration when the update has none', () => {
    const first = setCondition([], ready('True'), t0);
    const second = setCondition(first, { type: 'Ready', status: 'True', reason: 'Reconciled' }, t1);
    expect(second[0]!.observedGeneration).toBe(1);
  });

  it('never changes its input', () => {
    const input: Condition[] = setCondition([], ready('False'), t0);
    const frozen = structuredClone(input);
    setCondition(input, ready('True'), t1);
    removeCondition(input, 'Ready');
    expect(input).toEqual(frozen);
  });

  it('truncates long messages to the apiserver bound without splitting a character', () => {
    const long = '😀'.repeat(MAX_MESSAGE_LENGTH + 10);
    const message = setCondition([], ready('False', 'Failed', long), t0)[0]!.message;
    expect(Array.from(message)).toHaveLength(MAX_MESSAGE_LENGTH);
    expect(message.endsWith('… (truncated)')).toBe(true);
    expect(message.includes('\uFFFD')).toBe(false);
    expect(boundMessage('short')).toBe('short');
    expect(boundMessage('x'.repeat(MAX_MESSAGE_LENGTH))).toHaveLength(MAX_MESSAGE_LENGTH);
  });

  it('rejects reasons, types and statuses the apiserver would reject', () => {
    expect(() => setCondition([], ready('True', 'not allowed'), t0)).toThrow(/reason/);
    expect(() => setCondition([], ready('True', 'R'.repeat(1025)), t0)).toThrow(/reason/);
    expect(() => setCondition([], ready('True', ''), t0)).toThrow(/reason/);
    expect(() => setCondition([], { type: 'bad type', status: 'True', reason: 'X' }, t0)).toThrow(
      /type/,
    );
    expect(() =>
      setCondition([], { type: 'Ready', status: 'Yes' as 'True', reason: 'X' }, t0),
    ).toThrow(/status/);
    expect(
      setCondition([], { type: 'example.com/Custom', status: 'True', reason: 'A_b:c,d' }, t0),
    ).toHaveLength(1);
  });
});

describe('getCondition, isConditionTrue, removeCondition', () => {
  const conditions = setConditions(
    [],
    [ready('True'), { type: 'Synced', status: 'False', reason: 'Failed' }],
    t0,
  );

  it('finds by type', () => {
    expect(getCondition(conditions, 'Synced')?.reason).toBe('Failed');
    expect(getCondition(undefined, 'Ready')).toBeUndefined();
    expect(isConditionTrue(conditions, 'Ready')).toBe(true);
    expect(isConditionTrue(conditions, 'Synced')).toBe(false);
    expect(isConditionTrue(conditions, 'Missing')).toBe(false);
  });

  it('removes by type and keeps the rest in order', () => {
    expect(removeCondition(conditions, 'Ready').map((c) => c.type)).toEqual(['Synced']);
    expect(removeCondition(undefined, 'Ready')).toEqual([]);
  });
});

it('metaTime drops milliseconds', () => {
  expect(metaTime(t0)).toBe('2030-01-01T00:00:00Z');
});
