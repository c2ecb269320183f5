// Tables of chzdev and lszdev (s390-tools 2.43.0, table.c, table_types.c,
// table_attribs.c): columns, table_print without wrapping (or KEY="VALUE"
// pairs), --list-types, --list-attributes and --help-attribute.

import {devtypeFind, DEVTYPES, subtypeFind} from './devtype.js'
import {EXIT} from './exit_code.js'
import {type ZOut, quoteStr} from './misc.js'
import type {Attrib} from './setting.js'

export interface Column {
  name: string
  id: string
  def: boolean
  desc: string
}

export function tableGetColumn(columns: Column[], name: string): Column | undefined {
  for (const c of columns) {
    if (c.name.toLowerCase() === name.toLowerCase()) return c
    if (c.name.includes(':') && name.toLowerCase().startsWith(c.name.toLowerCase())) return c
  }
  return undefined
}

/** table_check_columns: every name must be a column. */
export function tableCheckColumns(o: ZOut, columns: Column[], names: string[]): number {
  for (const n of names) {
    if (!tableGetColumn(columns, n)) {
      o.error(`Unknown column name specified: ${n}\n`)
      return EXIT.UNKNOWN_COLUMN
    }
  }
  return EXIT.OK
}

const shellName = (h: string): string =>
  [...h].map((c, i) => (/[A-Za-z0-9_]/.test(c) && !(i === 0 && /[0-9]/.test(c)) ? c : '_')).join('')

/** table_print without wrapping: headings and rows separated by two blanks, or KEY="VALUE" pairs. */
export function tablePrint<T>(
  o: ZOut,
  columns: Column[],
  value: (item: T, id: string, heading: string) => string | null,
  items: T[],
  names: string[] | null,
  heading: boolean,
  pairs: boolean,
  indent: number,
  shell = false,
): number {
  let cells: Array<{heading: string; id: string; width: number}>
  if (!names || names.length === 0) cells = columns.filter((c) => c.def).map((c) => ({heading: c.name, id: c.id, width: 0}))
  else {
    cells = []
    for (const n of names) {
      const c = tableGetColumn(columns, n)
      if (!c) {
        o.error(`Unknown column name specified: ${n}\n`)
        return EXIT.UNKNOWN_COLUMN
      }
      cells.push({heading: n, id: c.id, width: 0})
    }
  }
  const pad = ' '.repeat(indent)
  if (!pairs) {
    for (const c of cells) c.width = c.heading.length
    for (const it of items) for (const c of cells) c.width = Math.max(c.width, (value(it, c.id, c.heading) ?? '').length)
    const line = (texts: string[]) =>
      pad + texts.map((t, i) => (i === texts.length - 1 ? t : t.padEnd(cells[i].width))).join('  ') + '\n'
    if (heading && cells.length) o.out(line(cells.map((c) => c.heading)))
    else if (heading) o.out(pad + '\n')
  }
  for (const it of items) {
    const vals = cells.map((c) => value(it, c.id, c.heading))
    if (pairs) {
      o.out(cells.map((c, i) => `${shell ? shellName(c.heading) : c.heading}=${quoteStr(vals[i] ?? '', true)}`).join(' ') + '\n')
    } else {
      o.out(pad + vals.map((v, i) => (i === vals.length - 1 ? (v ?? '') : (v ?? '').padEnd(cells[i].width))).join('  ') + '\n')
    }
  }
  return EXIT.OK
}

/** --list-types: every devtype with a title, then its subtypes. */
export function tableTypesShow(o: ZOut, columns: string[] | null, headings: boolean, pairs: boolean): number {
  const items: string[] = []
  for (const dt of DEVTYPES) {
    if (dt.title) items.push(dt.name)
    for (const st of dt.subtypes) items.push(st.name)
  }
  const cols: Column[] = [
    {name: 'TYPE', id: 'name', def: true, desc: ''},
    {name: 'DESCRIPTION', id: 'title', def: true, desc: ''},
  ]
  return tablePrint(
    o,
    cols,
    (name, id) => (id === 'name' ? name : (subtypeFind(name)?.st.title ?? devtypeFind(name)?.title ?? null)),
    items,
    columns,
    headings,
    pairs,
    0,
  )
}

/** --list-attributes for type attributes: NAME and DESCRIPTION. */
export function tableAttribsShow(o: ZOut, attribs: Attrib[]): void {
  if (attribs.length === 0) return
  const cols: Column[] = [
    {name: 'NAME', id: 'name', def: true, desc: ''},
    {name: 'DESCRIPTION', id: 'desc', def: true, desc: ''},
  ]
  tablePrint(o, cols, (a: Attrib, id) => (id === 'name' ? a.name : a.title), attribs, null, true, false, 0)
}

/** --help-attribute: the detailed text of each attribute, separated by an empty line. */
export function tableAttribsShowDetails(o: ZOut, attribs: Attrib[]): void {
  attribs.forEach((a, k) => {
    if (k > 0) o.out('\n')
    o.out(`ATTRIBUTE ${a.name}\n\n`)
    o.indent(2, 'DESCRIPTION\n')
    o.indent(4, a.desc)
    if (a.defval) {
      o.out('\n')
      o.indent(2, 'DEFAULT VALUE\n')
      o.indent(4, `The default value is '${a.defval}'.\n`)
    }
    if (!a.readonly) {
      o.out('\n')
      o.indent(2, 'ACCEPTED VALUES\n')
      o.indent(4, 'All values are accepted\n')
    }
  })
}
