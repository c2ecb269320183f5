// libutil's util_rec "wide" tables: columns in order, one blank between
// them, every value padded to its column width (never truncated), a header
// line and a line of dashes.

export interface Column {
  key: string
  header: string
  width: number
  align: 'left' | 'right'
}

/** Runs of blanks, for padding without making a padded copy of each value. */
const BLANKS = Array.from({length: 65}, (_, i) => ' '.repeat(i))
const blanks = (n: number): string => (n < BLANKS.length ? BLANKS[n] : ' '.repeat(n))

export function recRow(cols: Column[], values: Record<string, string>): string {
  // One string grown cell by cell (lszcrypt -V prints a row per queue: 65,536 on a big host).
  let s = ''
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i]
    const v = values[c.key] ?? ''
    const pad = c.width - v.length
    if (i > 0) s += ' '
    if (pad <= 0) s += v
    else if (c.align === 'left') s += v + blanks(pad)
    else s += blanks(pad) + v
  }
  return s + '\n'
}

export function recHeader(cols: Column[]): string {
  const width = cols.reduce((n, c) => n + c.width, 0) + cols.length - 1
  return recRow(cols, Object.fromEntries(cols.map((c) => [c.key, c.header]))) + '-'.repeat(width) + '\n'
}
