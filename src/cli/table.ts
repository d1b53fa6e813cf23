// A plain text table: columns padded to their widest cell, two spaces apart, the last column free. Cells
// hold names from outside (a remote's branches), so control characters in them are shown escaped.

import { escapeControls } from '../rules/safe-text.js';

export function textTable(header: readonly string[], cells: readonly (readonly string[])[]): string[] {
  const rows = cells.map((row) => row.map(escapeControls));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line);
}
