// Output of aplab's own commands (the mirrored tools have their own views).

import type {Preset} from '../core/presets.js'

/** The presets as a borderless table, for `aplab init --list`. */
export async function presetTable(presets: Preset[]): Promise<string> {
  const {default: Table} = await import('cli-table3')
  const t = new Table({
    head: ['PRESET', 'HOST'],
    chars: {top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  '},
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
    wordWrap: true,
    colWidths: [12, 66],
  })
  for (const p of presets) t.push([p.name, p.summary])
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n') + '\n'
}
