// Test helpers: build hosts from YAML fixtures and run the mirrored tools
// in-process against them.

import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {KernelError} from '../src/core/errors.js'
import type {Host, World} from '../src/core/model.js'
import {parse, serialize} from '../src/state/store.js'
import {hostVfs} from '../src/sysfs/host.js'
import {runChzcrypt} from '../src/tools/chzcrypt.js'
import {Stdio} from '../src/tools/libc.js'
import {runLszcrypt} from '../src/tools/lszcrypt.js'

export const FIXTURES = join(import.meta.dirname, 'fixtures')

/** A state file from test/fixtures, parsed and validated like any state. */
export async function fixture(name: string): Promise<World> {
  const file = join(FIXTURES, name)
  return parse(readFileSync(file, 'utf8'), file)
}

export function host(w: World): Host {
  return w.hosts.find((h) => h.name === w.current)!
}

export interface Run {
  stdout: string
  stderr: string
  code: number
}

/** Run lszcrypt or chzcrypt on the world's current host (chzcrypt changes it). */
export function tool(w: World, name: 'lszcrypt' | 'chzcrypt', argv: string[], uid = 0): Run {
  const io = new Stdio(false)
  const run = name === 'lszcrypt' ? runLszcrypt : runChzcrypt
  const code = run(argv, hostVfs(host(w), uid), io)
  return {stdout: io.stdout, stderr: io.stderr, code}
}

export const lszcrypt = (w: World, ...argv: string[]): Run => tool(w, 'lszcrypt', argv)
export const chzcrypt = (w: World, ...argv: string[]): Run => tool(w, 'chzcrypt', argv)

export async function text(w: World): Promise<string> {
  return serialize(w)
}

/** The errno a kernel operation fails with, or 'ok'. */
export function errno(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    if (e instanceof KernelError) return e.errno
    throw e
  }
  return 'ok'
}
