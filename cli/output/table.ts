// kubectl's table: upper-case headers, columns padded to their widest cell and three spaces
// apart, the last column unpadded, "<none>" for an empty cell.

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | undefined;
  /** Shown only with -o wide. */
  wide?: boolean;
}

export function renderTable<Row>(columns: Column<Row>[], rows: Row[], wide: boolean): string {
  const shown = columns.filter((c) => wide || !c.wide);
  const cells = rows.map((row) =>
    shown.map((c) => {
      const v = c.value(row);
      return v === undefined || v === '' ? '<none>' : v.replace(/\s+/g, ' ');
    }),
  );
  const table = [shown.map((c) => c.header.toUpperCase()), ...cells];
  const widths = shown.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
  return table
    .map((line) =>
      line
        .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]! + 3)))
        .join('')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}
