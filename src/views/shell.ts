// The messages of the shell commands `aplab sysfs` stands in for: coreutils
// `cat` and `ls`, and the shell's `echo VALUE > FILE`.

import {type Errno, strerror} from '../core/errors.js'

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
