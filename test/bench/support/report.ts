// Output of a bench: plain-text tables on stdout, and the same figures as JSON in
// .bench/<name>.json at the repository root (overwritten by every run), for comparing runs.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';

const benchDir = fileURLToPath(new URL('../../../.bench/', import.meta.url));

/** A table: a title, a header row and rows; the first column is left-aligned, the rest right. */
export interface Table {
  title: string;
  header: readonly string[];
  rows: readonly (readonly string[])[];
  /** Lines printed under the table. */
  notes?: readonly string[];
}

export function renderTable(table: Table): string {
  const all = [table.header, ...table.rows];
  const columns = Math.max(...all.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(...all.map((row) => (row[i] ?? '').length)),
  );
  const line = (row: readonly string[]) =>
    widths
      .map((width, i) => {
        const cell = row[i] ?? '';
        return i === 0 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ')
      .trimEnd();
  const rule = '─'.repeat(widths.reduce((total, w) => total + w, 0) + 2 * (columns - 1));
  return [
    table.title,
    line(table.header),
    rule,
    ...table.rows.map(line),
    ...(table.notes ?? []).map((note) => `  ${note}`),
  ].join('\n');
}

/** Milliseconds, to three significant figures or so: "0.84 ms", "12.3 ms", "4.56 s". */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 100) return `${value.toFixed(0)} ms`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

export function times(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)}×`;
}

export function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

export function perSecond(n: number, elapsedMs: number, unit: string): string {
  return elapsedMs > 0 ? `${(n / (elapsedMs / 1000)).toFixed(1)} ${unit}/s` : '–';
}

/** Writes `.bench/<name>.json`, formatted as prettier would; returns its path. */
export async function writeJson(name: string, data: unknown): Promise<string> {
  await mkdir(benchDir, { recursive: true });
  const path = `${benchDir}${name}.json`;
  const options = (await resolveConfig(path)) ?? {};
  await writeFile(path, await format(JSON.stringify(data), { ...options, filepath: path }));
  return path;
}
