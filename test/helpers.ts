// Test helpers: build hosts from YAML fixtures and run the mirrored tools
// in-process against them.

import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {KernelError} from '../src/core/errors.js'
import type {Host, World} from '../src/core/model.js'
import {modprobe} from '../src/core/modules.js'
import {preset} from '../src/core/presets.js'
import {newWorld, parse, serialize} from '../src/state/store.js'
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

/** A max host (256 x 256) with vfio_ap loaded and both masks cleared: every APQN free for mdevs. */
export function maxWorldForMdevs(): {world: World; host: Host} {
  const world = newWorld('max')
  const h = world.hosts[0]
  modprobe(h, 'vfio_ap', false, 0)
  hostVfs(h, 0).write('/sys/bus/ap/apmask', '0x' + '0'.repeat(64) + '\n')
  hostVfs(h, 0).write('/sys/bus/ap/aqmask', '0x' + '0'.repeat(64) + '\n')
  return {world, host: h}
}

/** The kernel documentation's host with adapters 5 and 6 and domains 4 and 0x47 given to vfio_ap. */
export function docHostWithVfioQueues(): Host {
  const h = preset('vfio-ap-doc').build('h')
  const v = hostVfs(h)
  v.write('/sys/bus/ap/apmask', '-5,-6\n')
  v.write('/sys/bus/ap/aqmask', '-4,-0x47\n')
  return h
}
