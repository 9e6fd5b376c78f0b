import { describe, expect, it } from 'vitest';
import { DailyActivityResponse } from '../../../contracts/litellm/daily-activity.ts';
import { CSV_COLUMNS, daysBetween, usageCsv, usageReport } from './usage-report.ts';

/** A day as LiteLLM answers it, run through the contract's schema (defaults filled in). */
function day(
  date: string,
  groups: Record<string, { spend: number; prompt: number; completion: number; requests: number }>,
) {
  const metrics = (m: { spend: number; prompt: number; completion: number; requests: number }) => ({
    spend: m.spend,
    prompt_tokens: m.prompt,
    completion_tokens: m.completion,
    total_tokens: m.prompt + m.completion,
    api_requests: m.requests,
  });
  const all = Object.values(groups).reduce(
    (sum, m) => ({
      spend: sum.spend + m.spend,
      prompt: sum.prompt + m.prompt,
      completion: sum.completion + m.completion,
      requests: sum.requests + m.requests,
    }),
    { spend: 0, prompt: 0, completion: 0, requests: 0 },
  );
  return DailyActivityResponse.parse({
    results: [
      {
        date,
        metrics: metrics(all),
        breakdown: {
          model_groups: Object.fromEntries(
            Object.entries(groups).map(([name, m]) => [
              name,
              { metrics: metrics(m), metadata: {} },
            ]),
          ),
        },
      },
    ],
    metadata: {},
  }).results[0]!;
}

describe('usageReport', () => {
  const range = { since: '2026-11-29', until: '2026-12-02' };

  it('adds a day that straddles two pages into one, per model, exactly to the micro-dollar', () => {
    const report = usageReport(
      [
        day('2026-12-01', { granite: { spend: 0.1, prompt: 10, completion: 20, requests: 1 } }),
        day('2026-11-30', { granite: { spend: 0.0004, prompt: 10, completion: 0, requests: 1 } }),
        // the second page's part of 2026-12-01
        day('2026-12-01', {
          granite: { spend: 0.2, prompt: 5, completion: 5, requests: 2 },
          llama: { spend: 0.7, prompt: 1, completion: 1, requests: 1 },
        }),
      ],
      range,
    );
    expect(report.totals).toEqual({
      spend: '1.0004',
      promptTokens: 26,
      completionTokens: 26,
      totalTokens: 52,
      requests: 5,
    });
    expect(report.models.map((m) => [m.model, m.spend])).toEqual([
      ['llama', '0.7'],
      ['granite', '0.3004'],
    ]);
    const december1 = report.days.find((d) => d.date === '2026-12-01')!;
    expect(december1).toMatchObject({ spend: '1', requests: 4 });
    expect(december1.models).toEqual([
      {
        model: 'llama',
        spend: '0.7',
        promptTokens: 1,
        completionTokens: 1,
        totalTokens: 2,
        requests: 1,
      },
      {
        model: 'granite',
        spend: '0.3',
        promptTokens: 15,
        completionTokens: 25,
        totalTokens: 40,
        requests: 3,
      },
    ]);
  });

  it('has every day of the range, oldest first, with zeros where nothing was spent', () => {
    const report = usageReport(
      [day('2026-11-30', { x: { spend: 1, prompt: 1, completion: 1, requests: 1 } })],
      range,
    );
    expect(report.days.map((d) => [d.date, d.spend, d.models.length])).toEqual([
      ['2026-11-29', '0', 0],
      ['2026-11-30', '1', 1],
      ['2026-12-01', '0', 0],
      ['2026-12-02', '0', 0],
    ]);
  });

  it('counts days across a month and a year end', () => {
    expect(daysBetween('2026-12-30', '2027-01-02')).toEqual([
      '2026-12-30',
      '2026-12-31',
      '2027-01-01',
      '2027-01-02',
    ]);
    expect(daysBetween('2026-12-02', '2026-12-01')).toEqual([]);
  });
});

describe('usageCsv', () => {
  /** An RFC 4180 reader: enough to prove the writer's quoting round-trips. */
  function parseCsv(text: string): string[][] {
    const rows: string[][] = [];
    let row: string[] = [];
    let field = '';
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (quoted && c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (quoted && c === '"') {
        quoted = false;
      } else if (quoted) {
        field += c;
      } else if (c === '"') {
        quoted = true;
      } else if (c === ',') {
        row.push(field);
        field = '';
      } else if (c === '\r' && text[i + 1] === '\n') {
        row.push(field);
        rows.push(row);
        row = [];
        field = '';
        i++;
      } else {
        field += c;
      }
    }
    return rows;
  }

  it('writes a header row, then one row per day and model that saw requests', () => {
    const report = usageReport(
      [
        day('2026-12-01', {
          granite: { spend: 0.25, prompt: 10, completion: 20, requests: 2 },
          'odd, "name"\nhere': { spend: 0.5, prompt: 1, completion: 2, requests: 1 },
        }),
      ],
      { since: '2026-11-30', until: '2026-12-01' },
    );
    const text = usageCsv(report);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(parseCsv(text)).toEqual([
      [...CSV_COLUMNS],
      ['2026-12-01', 'odd, "name"\nhere', '0.5', '1', '2', '3', '1'],
      ['2026-12-01', 'granite', '0.25', '10', '20', '30', '2'],
    ]);
  });

  it('keeps a model name that looks like a spreadsheet formula from running as one', () => {
    const report = usageReport(
      [
        day('2026-12-01', {
          '=HYPERLINK("x")': { spend: 1, prompt: 1, completion: 1, requests: 1 },
        }),
      ],
      { since: '2026-12-01', until: '2026-12-01' },
    );
    expect(parseCsv(usageCsv(report))[1]![1]).toBe(`'=HYPERLINK("x")`);
  });

  it('is only the header for a range without requests', () => {
    expect(usageCsv(usageReport([], { since: '2026-12-01', until: '2026-12-01' }))).toBe(
      `${CSV_COLUMNS.join(',')}\r\n`,
    );
  });
});
