// The messages of the shell commands `aplab sysfs` stands in for: coreutils
// `cat` and `ls`, and the shell's `echo VALUE > FILE`.

import {type Errno, strerror} from '../core/errors.js'

/** A word quoted for sh: always in single quotes, or (`minimal`) only where it needs them. */
export function shQuote(s: string, minimal = false): string {
  return minimal && /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

export const catError = (path: string, errno: Errno): string => `cat: ${path}: ${strerror(errno)}\n`

export const lsError = (path: string, errno: Errno): string => `ls: cannot access '${path}': ${strerror(errno)}\n`

export const redirectError = (path: string, errno: Errno): string => `aplab: ${path}: ${strerror(errno)}\n`

export const echoWriteError = (errno: Errno): string => `aplab: echo: write error: ${strerror(errno)}\n`

/** `ls` of several operands: files first, then each directory under a heading. */
export function lsText(files: string[], dirs: Array<{path: string; entries: string[]}>, operands: number): string {
  let s = files.map((f) => f + '\n').join('')
  dirs.forEach((d, i) => {
    if (operands > 1) s += (s || i > 0 ? '\n' : '') + `${d.path}:\n`
    s += d.entries.map((e) => e + '\n').join('')
  })
  return s
}

/** One entry of `ls -l`: what stat(2) says of it, and where a link points. */
export interface LongEntry {
  kind: 'file' | 'dir' | 'link'
  mode: number
  nlink: number
  size: number
  name: string
  target?: string
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const SIX_MONTHS = (31556952 / 2) * 1000

/** coreutils' mode string (filemode.c), without ACL or SELinux markers. */
export function modeString(kind: LongEntry['kind'], mode: number): string {
  const rwx = (b: number) => `${b & 4 ? 'r' : '-'}${b & 2 ? 'w' : '-'}${b & 1 ? 'x' : '-'}`
  return (kind === 'dir' ? 'd' : kind === 'link' ? 'l' : '-') + rwx(mode >> 6) + rwx(mode >> 3) + rwx(mode)
}

/** The time column in the C locale: "%b %e %H:%M" within six months before now, else "%b %e  %Y". */
export function lsTime(t: number, now: number): string {
  const d = new Date(t)
  const day = String(d.getDate()).padStart(2, ' ')
  const recent = t <= now && now - t < SIX_MONTHS
  const tail = recent ? `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}` : ` ${d.getFullYear()}`
  return `${MONTHS[d.getMonth()]} ${day} ${tail}`
}

/** `ls -l` rows of one listing, the number columns as wide as their widest value. */
export function lsLongRows(entries: LongEntry[], time: string): string {
  const wl = Math.max(0, ...entries.map((e) => String(e.nlink).length))
  const ws = Math.max(0, ...entries.map((e) => String(e.size).length))
  return entries
    .map((e) => `${modeString(e.kind, e.mode)} ${String(e.nlink).padStart(wl)} root root ${String(e.size).padStart(ws)} ${time} ${e.name}${e.target !== undefined ? ` -> ${e.target}` : ''}\n`)
    .join('')
}

/** `ls -l` of several operands: files first, then each directory with its total of 1K blocks. */
export function lsLongText(files: LongEntry[], dirs: Array<{path: string; entries: LongEntry[]; total: number}>, operands: number, time: string): string {
  let s = lsLongRows(files, time)
  dirs.forEach((d, i) => {
    if (operands > 1) s += (s || i > 0 ? '\n' : '') + `${d.path}:\n`
    s += `total ${d.total}\n` + lsLongRows(d.entries, time)
  })
  return s
}
