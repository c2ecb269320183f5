// libutil's util_rec "wide" tables: columns in order, one blank between
// them, every value padded to its column width (never truncated), a header
// line and a line of dashes.

export interface Column {
  key: string
  header: string
  width: number
  align: 'left' | 'right'
}

function cell(col: Column, value: string): string {
  return col.align === 'left' ? value.padEnd(col.width) : value.padStart(col.width)
}

export function recRow(cols: Column[], values: Record<string, string>): string {
  return cols.map((c) => cell(c, values[c.key] ?? '')).join(' ') + '\n'
}

export function recHeader(cols: Column[]): string {
  const width = cols.reduce((n, c) => n + c.width, 0) + cols.length - 1
  return recRow(cols, Object.fromEntries(cols.map((c) => [c.key, c.header]))) + '-'.repeat(width) + '\n'
}
