import { describe, expect, it } from 'vitest';
import { OpenAIError } from '../errors/openai-error.ts';
import { parseBody } from '../self-service/request-bodies.ts';
import { MAX_RANGE_DAYS, usageRange, UsageQuery } from './usage-subject.ts';

const now = new Date('2026-12-02T18:30:00Z');
const range = (query: Record<string, string>) => usageRange(parseBody(UsageQuery, query), now);

function refusal(work: () => unknown): OpenAIError {
  try {
    work();
  } catch (err) {
    if (err instanceof OpenAIError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('the /api/usage query', () => {
  it('defaults to the last 30 UTC days including today, as JSON', () => {
    expect(parseBody(UsageQuery, { scope: 'user' })).toEqual({
      scope: 'user',
      since: '30d',
      format: 'json',
    });
    expect(range({ scope: 'user' })).toEqual({ since: '2026-11-03', until: '2026-12-02' });
    expect(range({ scope: 'user', since: '1d' })).toEqual({
      since: '2026-12-02',
      until: '2026-12-02',
    });
  });

  it('takes dates for since and until', () => {
    expect(range({ scope: 'team', since: '2026-01-01', until: '2026-01-31' })).toEqual({
      since: '2026-01-01',
      until: '2026-01-31',
    });
  });

  it.each([
    [{ scope: 'org' }, 'scope'],
    [{ scope: 'team', since: 'a month' }, 'since'],
    [{ scope: 'team', until: '2026-13-01' }, 'until'],
    [{ scope: 'team', format: 'xml' }, 'format'],
    [{ scope: 'team', extra: '1' }, 'extra'],
  ])('refuses %o naming %s', (query, param) => {
    const error = refusal(() => parseBody(UsageQuery, query));
    expect(error.statusCode).toBe(400);
    expect(error.param).toBe(param);
  });

  it(`refuses a range that ends before it starts, or is longer than ${MAX_RANGE_DAYS} days`, () => {
    expect(
      refusal(() => range({ scope: 'team', since: '2026-12-03', until: '2026-12-02' })).message,
    ).toContain('on or before');
    expect(refusal(() => range({ scope: 'team', since: '401d' })).message).toContain(
      `at most ${MAX_RANGE_DAYS} days`,
    );
    expect(range({ scope: 'team', since: '400d' }).since).toBe('2025-10-29');
  });
});
