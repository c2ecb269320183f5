// aplab's tables are laid out without cli-table3 but in its exact bytes: the
// one-pass layout against cli-table3 itself on random tables.
import Table from 'cli-table3'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {plainTable} from '../../src/views/table.js'

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
}

function cliTable3(head: string[], rows: string[][]): string {
  const t = new Table({head, chars: NO_BORDER, style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0}})
  for (const r of rows) t.push(r)
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n') + '\n'
}

describe('plainTable', () => {
  it('draws what cli-table3 draws, blanks, empty cells and empty columns included', async () => {
    const cell = fc.string({unit: fc.constantFrom(...' ab-_.*09XZ,'.split('')), maxLength: 10})
    await fc.assert(
      fc.asyncProperty(
        fc.integer({min: 1, max: 6}).chain((n) => fc.tuple(fc.array(cell, {minLength: n, maxLength: n}), fc.array(fc.array(cell, {minLength: n, maxLength: n}), {maxLength: 6}))),
        async ([head, rows]) => {
          expect(await plainTable(head, rows)).toBe(cliTable3(head, rows))
        },
      ),
      {numRuns: 500},
    )
  })

  it('leaves wide characters to cli-table3', async () => {
    const head = ['GUEST', 'HOST']
    const rows = [['gäst', 'host0'], ['客人', 'h']]
    expect(await plainTable(head, rows)).toBe(cliTable3(head, rows))
  })
})
