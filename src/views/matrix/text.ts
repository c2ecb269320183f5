// `aplab matrix` on a terminal: adapters as columns, domains as rows (the
// IBM guide's table of AP queues), two symbols per APQN, a legend, and a
// summary where the table would not fit 80 columns.

import {type MatrixMdev, type MatrixQueue, type MatrixView, queueAt} from '../../core/matrix.js'
import {hex2, hex4} from '../../core/model.js'

/** What each kind of symbol is painted with; PLAIN leaves the symbols alone. */
export interface Paint {
  off(s: string): string
  host(s: string): string
  free(s: string): string
  none(s: string): string
  assigned(s: string): string
  guest(s: string): string
  bold(s: string): string
}

const id = (s: string): string => s
export const PLAIN: Paint = {off: id, host: id, free: id, none: id, assigned: id, guest: id, bold: id}

/** The widest table drawn at 80 columns: a 7-column row label, 3 columns per adapter. */
export const MAX_COLUMNS = 24
export const MAX_ROWS = 64

/** The host-level symbol of a queue: configuration, masks and driver. */
export function levelSymbol(q: MatrixQueue): '.' | 'h' | 'v' | '-' {
  if (!q.exists) return '.'
  if (q.driver === 'cex4queue') return 'h'
  if (q.driver === 'vfio_ap') return 'v'
  return '-'
}

/** The mdev/guest symbol: the mdev's letter, upper case once it is in its guest's APCB. */
export function mdevSymbol(v: MatrixView, q: MatrixQueue): string {
  const byUuid = (u: string | null): MatrixMdev | undefined => v.mdevs.find((m) => m.uuid === u)
  if (q.guest !== null) {
    const g = v.guests.find((x) => x.name === q.guest)
    return (byUuid(g?.mdev ?? null)?.letter ?? '#').toUpperCase()
  }
  return byUuid(q.mdev)?.letter ?? ' '
}

function paintLevel(p: Paint, s: string): string {
  return s === '.' ? p.off(s) : s === 'h' ? p.host(s) : s === 'v' ? p.free(s) : p.none(s)
}

function paintMdev(p: Paint, s: string): string {
  return s === ' ' ? s : s === s.toUpperCase() ? p.guest(s) : p.assigned(s)
}

const LEGEND = [
  "  .  not in the LPAR's configuration     h  the host's (apmask, aqmask): cex4queue",
  '  v  free for vfio_ap, bound to it       -  bound to no driver',
  '  a  assigned to mdev a                  A  and in its running guest\'s APCB',
  '  c  after a domain: a control domain of the LPAR',
]

function header(v: MatrixView): string {
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`
  const lines = [
    `host ${v.host}: ${plural(v.adapters.length, 'adapter')} x ${plural(v.domains.length, 'domain')} shown of ${v.maxAdapter + 1} x ${v.maxDomain + 1}` +
      (v.vfioLoaded ? '' : '; vfio_ap not loaded'),
  ]
  if (v.focus.guest) lines.push(`  guest ${v.focus.guest}` + (v.focus.mdev ? `, mdev ${v.focus.mdev}` : ', no mdev'))
  else if (v.focus.mdev) lines.push(`  mdev ${v.focus.mdev}`)
  if (v.adapters.length && v.adapters.length <= MAX_COLUMNS) lines.push(...wrap('  adapters: ', v.adapters.map((a) => hex2(a.id) + (a.type ? ' ' + a.type : ' (not configured)'))))
  return lines.join('\n')
}

/** Items joined by ', ' in lines of at most 80 columns, the first one after `lead`. */
function wrap(lead: string, items: string[]): string[] {
  const lines: string[] = []
  let line = lead
  for (const [i, it] of items.entries()) {
    const piece = it + (i < items.length - 1 ? ',' : '')
    if (line.length + 1 + piece.length > 80 && line.trim() !== lead.trim()) lines.push(line.trimEnd()), (line = ' '.repeat(lead.length))
    line += (line.endsWith(' ') ? '' : ' ') + piece
  }
  lines.push(line.trimEnd())
  return lines
}

function mdevLines(v: MatrixView, p: Paint): string[] {
  return v.mdevs
    .filter((m) => v.focus.mdev === null || m.uuid === v.focus.mdev)
    .map((m) => {
      const guest = m.guest ? `guest ${m.guest}` : 'no guest'
      const cd = m.controlDomains.length ? `, control domains ${m.controlDomains.map(hex4).join(',')}` : ''
      return `  ${p.assigned(m.letter)}  ${m.uuid}  ${guest}${cd}`
    })
}

/** The table, or the summary when it would not fit (and nothing was named). */
export function matrixText(v: MatrixView, p: Paint = PLAIN, named = false): string {
  if (!named && (v.adapters.length > MAX_COLUMNS || v.domains.length > MAX_ROWS)) return matrixSummary(v, p)
  const out = [header(v), '']
  if (v.adapters.length === 0 || v.domains.length === 0) out.push('  (no adapters or domains to show)')
  else {
    out.push('       ' + v.adapters.map((a) => p.bold(hex2(a.id))).join(' '))
    v.domains.forEach((d, di) => {
      const cells = v.adapters.map((_, ai) => {
        const q = queueAt(v, ai, di)
        return paintLevel(p, levelSymbol(q)) + paintMdev(p, mdevSymbol(v, q))
      })
      out.push(`${p.bold(hex4(d.id))} ${d.control ? 'c' : ' '} ${cells.join(' ')}`.trimEnd())
    })
  }
  out.push('', ...LEGEND)
  const mdevs = mdevLines(v, p)
  if (mdevs.length) out.push('mdevs:', ...mdevs)
  return out.join('\n') + '\n'
}

/** A host too large to draw at 80 columns: counts at each level. */
export function matrixSummary(v: MatrixView, p: Paint = PLAIN): string {
  const n = {off: 0, host: 0, free: 0, none: 0, assigned: 0, guest: 0}
  for (const q of v.queues) {
    const s = levelSymbol(q)
    if (s === '.') n.off++
    else if (s === 'h') n.host++
    else if (s === 'v') n.free++
    else n.none++
    if (q.mdev !== null) n.assigned++
    if (q.guest !== null) n.guest++
  }
  const controls = v.domains.filter((d) => d.control).length
  const w = String(v.queues.length).length
  const row = (sym: string, count: number, what: string): string => `  ${sym}  ${String(count).padStart(w)}  ${what}`
  const out = [
    header(v),
    `  ${v.queues.length} APQNs, too many to draw at 80 columns; ${controls} control domains`,
    '',
    row(p.off('.'), n.off, "not in the LPAR's configuration"),
    row(p.host('h'), n.host, "the host's (apmask, aqmask): cex4queue"),
    row(p.free('v'), n.free, 'free for vfio_ap, bound to it'),
    row(p.none('-'), n.none, 'bound to no driver'),
    row(p.assigned('a'), n.assigned, 'assigned to an mdev'),
    row(p.guest('A'), n.guest, "in a running guest's APCB"),
  ]
  const mdevs = mdevLines(v, p)
  if (mdevs.length) out.push('mdevs:', ...mdevs.slice(0, 26), ...(mdevs.length > 26 ? [`  # and ${mdevs.length - 26} more`] : []))
  out.push(
    '',
    `Draw a part with --adapters and --domains (--adapters 0-${MAX_COLUMNS - 1} --domains 0-${MAX_ROWS - 1}),`,
    'or one mdev or guest with --mdev UUID or --guest NAME; --html FILE draws it all.',
  )
  return out.join('\n') + '\n'
}
