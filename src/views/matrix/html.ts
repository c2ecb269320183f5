// `aplab matrix --html FILE`: one self-contained page (inline CSS, no script,
// nothing fetched) with the four filter levels side by side, as in the IBM
// guide's figure "Matrices as a succession of filters": the LPAR's
// configuration, the host's masks, the mdevs' matrices and the guests' APCBs.
// An APQN reaches a guest only where it is lit at every level.

import {type MatrixQueue, type MatrixView, queueAt} from '../../core/matrix.js'
import {hex2, hex4} from '../../core/model.js'
import {levelSymbol} from './text.js'

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** One colour per mdev letter (and its guest), distinguishable on white. */
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22']

interface Level {
  key: 'lpar' | 'masks' | 'mdev' | 'guest'
  title: string
  note: string
  /** Whether the APQN passes this level, and the label of the cell. */
  cell(q: MatrixQueue): {on: boolean; label: string; colour?: string}
}

export function matrixHtml(v: MatrixView): string {
  const mdevIndex = new Map(v.mdevs.map((m, i) => [m.uuid, i]))
  const shownMdev = (u: string | null): boolean => u !== null && (v.focus.mdev === null || u === v.focus.mdev)
  const guestMdev = new Map(v.guests.map((g) => [g.name, g.mdev]))
  const colour = (u: string | null | undefined): string | undefined => (u == null ? undefined : PALETTE[(mdevIndex.get(u) ?? 0) % PALETTE.length])
  const letter = (u: string | null | undefined): string => v.mdevs.find((m) => m.uuid === u)?.letter ?? '#'
  const levels: Level[] = [
    {key: 'lpar', title: "LPAR's configuration", note: 'adapters and usage domains the SE/HMC gives the LPAR', cell: (q) => ({on: q.exists, label: ''})},
    {
      key: 'masks',
      title: "Host's masks",
      note: 'free for vfio_ap: not reserved by apmask and aqmask',
      cell: (q) => ({on: !q.reserved, label: q.exists ? levelSymbol(q) : ''}),
    },
    {
      key: 'mdev',
      title: v.focus.mdev ? `mdev ${letter(v.focus.mdev)}` : 'mdev matrices',
      note: 'assigned adapters x assigned domains',
      cell: (q) => (shownMdev(q.mdev) ? {on: true, label: letter(q.mdev), colour: colour(q.mdev)} : {on: false, label: ''}),
    },
    {
      key: 'guest',
      title: v.focus.guest ? `guest ${v.focus.guest}` : "guests' APCBs",
      note: 'what the running guests get after filtering',
      cell: (q) => {
        const u = q.guest === null ? null : (guestMdev.get(q.guest) ?? null)
        const shown = q.guest !== null && (v.focus.guest === null ? shownMdev(u) : q.guest === v.focus.guest)
        return shown ? {on: true, label: letter(u).toUpperCase(), colour: colour(u)} : {on: false, label: ''}
      },
    },
  ]
  const table = (l: Level): string => {
    const head = `<tr><th></th>${v.adapters.map((a) => `<th scope="col" title="${esc(a.type ?? 'not configured')}">${hex2(a.id)}</th>`).join('')}</tr>`
    const rows = v.domains.map((d, di) => {
      const cells = v.adapters.map((a, ai) => {
        const q = queueAt(v, ai, di)
        const c = l.cell(q)
        const style = c.on && c.colour ? ` style="background:${c.colour}"` : ''
        return `<td class="${c.on ? 'on' : 'off'}" data-apqn="${hex2(a.id)}.${hex4(d.id)}"${style}>${esc(c.label)}</td>`
      })
      return `<tr><th scope="row"${d.control ? ' class="control" title="control domain"' : ''}>${hex4(d.id)}</th>${cells.join('')}</tr>`
    })
    return (
      `<section class="level" data-level="${l.key}"><h2>${esc(l.title)}</h2><p>${esc(l.note)}</p>` +
      `<table><thead>${head}</thead><tbody>${rows.join('')}</tbody></table></section>`
    )
  }
  const arrow = '<div class="arrow" aria-hidden="true">&#8594;</div>'
  const legend = v.mdevs
    .filter((m) => shownMdev(m.uuid))
    .map((m) => {
      const cd = m.controlDomains.length ? `; control domains ${m.controlDomains.map(hex4).join(', ')}` : ''
      return `<li data-mdev="${m.uuid}"><span class="swatch" style="background:${colour(m.uuid)}">${m.letter}</span> <code>${m.uuid}</code> &#8212; ${m.guest ? `guest <b>${esc(m.guest)}</b>` : 'no guest'}${cd}</li>`
    })
  const focus = v.focus.guest ? `, guest ${v.focus.guest}` : v.focus.mdev ? `, mdev ${v.focus.mdev}` : ''
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>AP matrix of host ${esc(v.host)}${esc(focus)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.3em;margin:0 0 .2em}
.levels{display:flex;align-items:flex-start;gap:.4em;flex-wrap:wrap}
.level{border:1px solid #bbb;border-radius:6px;padding:.5em .7em}
.level h2{font-size:1em;margin:0}
.level p{margin:.1em 0 .5em;font-size:.8em;color:#555;max-width:16em}
.arrow{align-self:center;font-size:1.6em;color:#888}
table{border-collapse:collapse;font:12px ui-monospace,monospace}
th{font-weight:600;padding:1px 4px;color:#444}
th.control::after{content:"c";color:#b00;font-size:.8em;margin-left:1px}
td{width:1.8em;height:1.4em;text-align:center;border:1px solid #ccc;padding:0}
td.on{background:#999;color:#fff;font-weight:600}
td.off{background:#fff;color:#bbb}
ul{list-style:none;padding:0}
.swatch{display:inline-block;width:1.4em;text-align:center;color:#fff;font-weight:600;border-radius:3px}
</style></head>
<body>
<h1>AP queues of host ${esc(v.host)}${esc(focus)}</h1>
<p>Adapters are columns, domains rows (a <span style="color:#b00">c</span> marks a control domain of the LPAR). A queue reaches a guest only where it is lit at every level.</p>
<div class="levels">
${levels.map(table).join(`\n${arrow}\n`)}
</div>
${legend.length ? `<h2>mdevs</h2><ul class="mdevs">${legend.join('')}</ul>` : '<p>No mdevs.</p>'}
</body></html>
`
}
