// Borderless tables for aplab's own listings: columns separated by two
// blanks, no trailing blanks.
//
// The bytes are those cli-table3 draws with no borders and no padding
// (which the golden tests hold), but laid out here in one pass: cli-table3's
// layout is quadratic in the number of rows (a thousand mdevs took most of a
// second). cli-table3 still draws what this layout does not cover: wrapped
// columns (fixed widths) and cells with anything but printable ASCII, where
// widths are those of the terminal (wide characters, escapes, line breaks).

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
}

const PLAIN = /^[\x20-\x7e]*$/

export async function plainTable(head: string[], rows: string[][], colWidths?: number[]): Promise<string> {
  const all = [head, ...rows]
  if (!colWidths && all.every((r) => r.length === head.length && r.every((c) => PLAIN.test(c)))) return columns(all)
  const {default: Table} = await import('cli-table3')
  const t = new Table({
    head,
    chars: NO_BORDER,
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
    ...(colWidths ? {wordWrap: true, colWidths} : {}),
  })
  for (const r of rows) t.push(r)
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n') + '\n'
}

/** Every cell padded to its column's widest (at least 1, as cli-table3), two blanks between columns, no trailing blanks. */
function columns(rows: string[][]): string {
  const widths = rows[0].map((_, k) => rows.reduce((w, r) => Math.max(w, r[k].length), 1))
  let out = ''
  for (const r of rows) out += r.map((c, k) => c.padEnd(widths[k])).join('  ').trimEnd() + '\n'
  return out
}
