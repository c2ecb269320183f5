// Borderless tables for aplab's own listings: columns separated by two
// blanks, no trailing blanks.

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
}

export async function plainTable(head: string[], rows: string[][], colWidths?: number[]): Promise<string> {
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
