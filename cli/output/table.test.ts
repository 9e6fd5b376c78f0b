import { describe, expect, it } from 'vitest';
import { renderTable, type Column } from './table.ts';
import { relative, shortDuration } from './time.ts';

interface Row {
  name: string;
  ready?: string;
  message?: string;
}

const columns: Column<Row>[] = [
  { header: 'Name', value: (r) => r.name },
  { header: 'Ready', value: (r) => r.ready },
  { header: 'Message', value: (r) => r.message, wide: true },
];

describe('renderTable', () => {
  it('pads columns three spaces past their widest cell, upper-cases headers, marks empty cells', () => {
    const rows = [{ name: 'chatbot', ready: 'True' }, { name: 'a' }];
    expect(renderTable(columns, rows, false)).toBe(
      'NAME      READY\nchatbot   True\na         <none>\n',
    );
  });

  it('shows wide columns only with -o wide, and keeps a cell on one line', () => {
    const rows = [{ name: 'a', ready: 'False', message: 'waiting\nfor   the team' }];
    expect(renderTable(columns, rows, true)).toBe(
      'NAME   READY   MESSAGE\na      False   waiting for the team\n',
    );
  });

  it('prints the header alone for no rows', () => {
    expect(renderTable(columns, [], false)).toBe('NAME   READY\n');
  });
});

describe('times', () => {
  it('are kubectl-like ages and relative times', () => {
    expect(shortDuration(59_000)).toBe('59s');
    expect(shortDuration(90 * 60_000)).toBe('90m');
    expect(shortDuration(30 * 3_600_000)).toBe('30h');
    expect(shortDuration(29 * 86_400_000)).toBe('29d');
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(relative('2026-01-31T00:00:00Z', now)).toBe('in 30d');
    expect(relative('2025-12-31T21:00:00Z', now)).toBe('3h ago');
    expect(relative(undefined, now)).toBeUndefined();
  });
});
