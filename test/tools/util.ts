// Shared helpers for the golden tests of lszcrypt and chzcrypt against
// lszcrypt.md (the behaviour specification).

import {expect} from 'vitest'

import type {Host, World} from '../../src/core/model.js'
import {runChzcrypt} from '../../src/tools/chzcrypt.js'
import {Stdio} from '../../src/tools/libc.js'
import {runLszcrypt} from '../../src/tools/lszcrypt.js'
import {type DirNode, Vfs, dir} from '../../src/sysfs/vfs.js'
import {type Run, host} from '../helpers.js'

/** Assert a whole run byte-exactly: stdout, stderr and the exit code. */
export function check(r: Run, stdout: string, stderr = '', code = 0): void {
  expect(r.stdout).toBe(stdout)
  expect(r.stderr).toBe(stderr)
  expect(r.code).toBe(code)
}

/**
 * Run a tool against a hand-made sysfs (`/sys` = `sys`), for inputs of the
 * spec the host model cannot produce (no AP bus, an old kernel, a card
 * without queue directories).
 */
export function runOn(sys: DirNode, name: 'lszcrypt' | 'chzcrypt', ...argv: string[]): Run {
  const io = new Stdio(false)
  const run = name === 'lszcrypt' ? runLszcrypt : runChzcrypt
  const code = run(argv, new Vfs(dir({sys})), io)
  return {stdout: io.stdout, stderr: io.stderr, code}
}

export const lpar = (w: World): Host['lpar'] => host(w).lpar
export const rt = (w: World): Host['runtime'] => host(w).runtime

/** The lines of `text` that do not start with one of `prefixes` (each line keeps its newline). */
export function withoutRows(text: string, prefixes: string[]): string {
  return text
    .split(/(?<=\n)/)
    .filter((l) => !prefixes.some((p) => l.startsWith(p)))
    .join('')
}

/**
 * libutil's util_assert banner as the real tool prints it, without the
 * backtrace's entries (addresses of the real binary), for a process whose
 * core size limit is 0.
 */
export function utilAssertBanner(assertion: string, message: string, location: string, coreDumpsOff = true): string {
  return (
    '---8<-------------------------------------------------------------------------\n' +
    'ASSERTION FAILED: The application terminated due to an internal or OS error\n\n' +
    'The following assumption was *not* true:\n\n' +
    `  ${assertion}\n\nError string:\n\n  ${message}\nLocation:\n\n  ${location}\n\nBacktrace:\n\n\n` +
    (coreDumpsOff ? "Core dump size is zero. To get a full core dump use 'ulimit -c unlimited'.\n" : '') +
    '----------------------------------------------------------------------->8-----\n'
  )
}

/** glibc's __assert_fail line for json-c 0.16's json_object_array_length. */
export const jsoncArrayAssert = (prog: string): string =>
  `${prog}: ./json_object.c:1473: json_object_array_length: Assertion \`json_object_get_type(jso) == json_type_array' failed.\n`
