// libutil's help and version layout: `Usage:` line, description, one line per
// option with the description word-wrapped at 80 columns.

import type {OptDef} from './getopt.js'

/** s390-tools release the drop-ins follow, with the upstream build's DISTRELEASE. */
export const S390_TOOLS_VERSION = '2.43.0-build-20260625'

export interface HelpOpt extends OptDef {
  /** Argument name shown in the help (required arguments only). */
  argName?: string
  desc: string
}

function formatOpt(o: HelpOpt): string {
  const arg = o.arg === 'required' && o.argName ? ` ${o.argName}` : ''
  if (!o.short) return `    --${o.long}${arg}`
  if (!o.long) return `-${o.short}${arg}`
  return `-${o.short}, --${o.long}${arg}`
}

/** util_print_indented: wrap words at 80 columns, continuation lines indented. */
function indented(text: string, indent: number): string {
  let out = ''
  const lines = text.split('\n')
  lines.forEach((ln, li) => {
    let pos = indent
    for (const word of ln.split(' ')) {
      if (pos + word.length + 1 > 80) {
        out += '\n' + ' '.repeat(indent)
        pos = indent
      }
      out += pos === indent ? word : ' ' + word
      pos += word.length + 1
    }
    if (li < lines.length - 1) out += '\n' + ' '.repeat(indent)
  })
  return out + '\n'
}

export function optionsHelp(opts: HelpOpt[]): string {
  const max = Math.max(...opts.map((o) => formatOpt(o).length))
  return opts.map((o) => ` ${formatOpt(o).padEnd(max + 1)} ${indented(o.desc, 3 + max)}`).join('')
}

export function helpText(prog: string, args: string, desc: string, opts: HelpOpt[], trailer: string): string {
  return `Usage: ${prog} [OPTIONS] ${args}\n\n${desc}\n\n${optionsHelp(opts)}${trailer}`
}

export function versionText(prog: string, firstYear: number, lastYear: number): string {
  return `${prog} version ${S390_TOOLS_VERSION}\nCopyright IBM Corp. ${firstYear}, ${lastYear}\n`
}
