import { describe, expect, it } from 'vitest';
import { labelSelectorMatches, labelSelectorProblem } from './label-selector.ts';

describe('labelSelectorProblem', () => {
  it.each([
    'team',
    '!legacy',
    'llmtenancy.dev/team=true',
    'a==b,c!=d',
    'env in (prod,dev)',
    'env notin ( a , b )',
    'x=',
    'app.kubernetes.io/part-of=llm, tier in (a)',
  ])('accepts %s', (selector) => {
    expect(labelSelectorProblem(selector)).toBeUndefined();
  });

  it.each(['', '=x', 'a=b=c', 'env in prod', 'a,,b', 'bad key=x', 'a=(b)'])(
    'rejects %j',
    (selector) => {
      expect(labelSelectorProblem(selector)).toBeDefined();
    },
  );
});

describe('labelSelectorMatches', () => {
  const labels = { team: 'ml', tier: 'prod', env: 'b' };
  it.each([
    ['team=ml', true],
    ['team==ml,tier!=dev', true],
    ['team=other', false],
    ['env in (a, b)', true],
    ['env notin (a,b)', false],
    ['tier', true],
    ['!legacy', true],
    ['!team', false],
    ['legacy', false],
  ])('%s → %s', (selector, expected) => {
    expect(labelSelectorMatches(selector, labels)).toBe(expected);
  });
});
