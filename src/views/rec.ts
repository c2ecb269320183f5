// libutil's util_rec "wide" tables: columns in order, one blank between
// them, every value padded to its column width (never truncated), a header
// line and a line of dashes.

export interface Column {
  key: string
  header: string
  width: number
  align: 'left' | 'right'
}

export function recRow(cols: Column[], values: Record<string, string>): string {
  // One string grown cell by cell (lszcrypt -V prints a row per queue: 65,536 on a big host).
  let s = ''
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i]
    const v = values[c.key] ?? ''
    if (i > 0) s += ' '
    s += c.align === 'left' ? v.padEnd(c.width) : v.padStart(c.width)
  }
  return s + '\n'
}

export function recHeader(cols: Column[]): string {
  const width = cols.reduce((n, c) => n + c.width, 0) + cols.length - 1
  return recRow(cols, Object.fromEntries(cols.map((c) => [c.key, c.header]))) + '-'.repeat(width) + '\n'
}
