// A plain text table: columns padded to their widest cell, two spaces apart, the last column free. Cells
// hold names from outside (a remote's branches), so control characters in them are shown escaped. Given a
// width (a terminal's), the widest columns give way first and their cells end in '…', never wrapping mid-word.

import { escapeControls } from '../rules/safe-text.js';

export function textTable(header: readonly string[], cells: readonly (readonly string[])[], width?: number): string[] {
  const rows = cells.map((row) => row.map(escapeControls));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const total = (): number => widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.length - 1);
  if (width !== undefined && width > 0) {
    // One character at a time from the widest column, down to 6 (room for a short SHA and its '…').
    for (let over = total() - width; over > 0; over--) {
      const widest = widths.indexOf(Math.max(...widths));
      if ((widths[widest] ?? 0) <= 6) break;
      widths[widest] = (widths[widest] ?? 0) - 1;
    }
  }
  const cut = (cell: string, w: number): string => (width === undefined || cell.length <= w ? cell : `${cell.slice(0, Math.max(0, w - 1))}…`);
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? 0;
        const text = cut(c, w);
        return i === cells.length - 1 ? text : text.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line);
}
