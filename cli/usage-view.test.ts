import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.ts';
import { usageQuery } from './commands/usage.ts';
import type { UsageAnswer, UsageFigures } from '../contracts/usage/usage-answer.ts';
import { renderUsage } from './usage-view.ts';

const figures = (
  spend: string,
  prompt: number,
  completion: number,
  requests: number,
): UsageFigures => ({
  spend,
  promptTokens: prompt,
  completionTokens: completion,
  totalTokens: prompt + completion,
  requests,
});

const answer: UsageAnswer = {
  scope: 'team',
  name: 'ml-research',
  budget: {
    spend: '0.75',
    maxBudget: '10',
    usedFraction: '0.075',
    periodStart: '2026-12-01T00:00:00Z',
    resetsAt: '2026-12-31T00:00:00Z',
  },
  since: '2026-12-01',
  until: '2026-12-03',
  totals: figures('1.5', 9000, 1000, 30),
  models: [
    { model: 'granite-3-8b', ...figures('1.25', 8000, 500, 20) },
    { model: 'mistral-7b', ...figures('0.25', 1000, 500, 10) },
  ],
  days: [
    { date: '2026-12-01', ...figures('0', 0, 0, 0), models: [] },
    {
      date: '2026-12-02',
      ...figures('0.5', 3000, 500, 10),
      models: [
        { model: 'granite-3-8b', ...figures('0.25', 2000, 0, 5) },
        { model: 'mistral-7b', ...figures('0.25', 1000, 500, 5) },
      ],
    },
    {
      date: '2026-12-03',
      ...figures('1', 6000, 500, 20),
      models: [{ model: 'granite-3-8b', ...figures('1', 6000, 500, 20) }],
    },
  ],
};

describe('renderUsage', () => {
  it('prints a row per day with a bar of its spend, the models, the totals and the budget', () => {
    expect(renderUsage(answer, false)).toBe(
      [
        'Usage of Team ml-research, 2026-12-01 to 2026-12-03 (UTC days)',
        '',
        'DATE         SPEND (USD)   TOKENS   REQUESTS',
        '2026-12-01   0             0        0          ·',
        '2026-12-02   0.5           3500     10         ███████████████',
        '2026-12-03   1             6500     20         ██████████████████████████████',
        '',
        'MODEL          SPEND (USD)   TOKENS   PROMPT   COMPLETION   REQUESTS',
        'granite-3-8b   1.25          8500     8000     500          20',
        'mistral-7b     0.25          1500     1000     500          10',
        '',
        'Total: 1.5 USD, 10000 tokens, 30 requests',
        '',
        'Budget: spend 0.75 of 10 USD (7.5 %), since 2026-12-01T00:00:00Z, resets 2026-12-31T00:00:00Z',
        '        [██▎                           ]',
        '',
      ].join('\n'),
    );
  });

  it('adds prompt and completion tokens and each day’s models with -o wide', () => {
    const lines = renderUsage(answer, true).split('\n');
    expect(lines[2]).toBe(
      'DATE         SPEND (USD)   TOKENS   PROMPT   COMPLETION   REQUESTS   MODELS',
    );
    expect(lines[4]).toMatch(
      /^2026-12-02 +0\.5 +3500 +3000 +500 +10 +granite-3-8b=0\.25,mistral-7b=0\.25 +█+$/,
    );
    expect(lines[3]).toMatch(/^2026-12-01 +0 +0 +0 +0 +0 +- +·$/);
  });

  it('says so when nothing was used, and when there is no budget', () => {
    const idle: UsageAnswer = {
      ...answer,
      scope: 'key',
      name: 'chatbot',
      namespace: 'ml-research',
      budget: { spend: '0' },
      totals: figures('0', 0, 0, 0),
      models: [],
      days: [{ date: '2026-12-03', ...figures('0', 0, 0, 0), models: [] }],
    };
    const text = renderUsage(idle, false);
    expect(text).toContain('Usage of VirtualKey ml-research/chatbot, 2026-12-01 to 2026-12-03');
    expect(text).toContain('No model was used.');
    expect(text).toContain('Spend so far: 0 USD (no budget)');
    expect(text).not.toContain('Budget:');
  });

  it('shows a budget passed as a full gauge', () => {
    const over = { ...answer, budget: { spend: '12.5', maxBudget: '10' } };
    expect(renderUsage(over, false)).toContain(
      'Budget: spend 12.5 of 10 USD (125 %)\n        [██████████████████████████████]',
    );
  });
});

describe('usageQuery', () => {
  const namespace = () => 'ml-research';

  it('asks for your own User without a scope flag', () => {
    expect(usageQuery({}, namespace).toString()).toBe('scope=user');
  });

  it('names the Team, the key in the namespace, and the range', () => {
    expect(usageQuery({ team: 'ml', since: '7d' }, namespace).toString()).toBe(
      'scope=team&name=ml&since=7d',
    );
    expect(usageQuery({ key: 'chatbot', until: '2026-12-01' }, namespace).toString()).toBe(
      'scope=key&name=chatbot&namespace=ml-research&until=2026-12-01',
    );
  });

  it('refuses two scopes at once, and an empty name', () => {
    expect(() => usageQuery({ team: 'a', key: 'b' }, namespace)).toThrow(UsageError);
    expect(() => usageQuery({ team: 'a', key: 'b' }, namespace)).toThrow(
      'choose one of --team, --user and --key, not team and key',
    );
    expect(() => usageQuery({ team: '' }, namespace)).toThrow('--team needs a name');
  });
});
