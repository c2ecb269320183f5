// /sys/module/ap/parameters: the ap bus module's parameters (kernel-qemu.md
// section 1.4), read-only and for root only (0440). `domain` is the live
// default domain; the others keep what the command line set: `apmask` and
// `aqmask` its strings ("(null)" without one), `poll_thread` and `useirq`
// its numbers (the poll_thread bus attribute starts and stops the thread
// without changing the parameter).

import {paramInt, parseCmdline} from '../core/host.js'
import type {Runtime} from '../core/model.js'
import {type DirNode, type FileNode, dir} from './vfs.js'

const param = (show: () => string): FileNode => ({kind: 'file', mode: 0o440, show})

/** A charp parameter: the last value the command line gave. */
function charp(rt: Runtime, name: string): string {
  let v: string | undefined
  for (const [k, val] of parseCmdline(rt.cmdline)) if (k === name && val !== undefined) v = val
  return `${v ?? '(null)'}\n`
}

/** An int parameter: the last value the command line gave that parses, else the default. */
function int(rt: Runtime, name: string, dflt: number): string {
  let v = dflt
  for (const [k, val] of parseCmdline(rt.cmdline)) if (k === name) v = paramInt(val) ?? v
  return `${v}\n`
}

export function moduleDir(rt: () => Runtime): DirNode {
  return dir({
    ap: dir({
      parameters: dir({
        apmask: param(() => charp(rt(), 'ap.apmask')),
        aqmask: param(() => charp(rt(), 'ap.aqmask')),
        domain: param(() => `${rt().domain}\n`),
        msgpool_min_items: param(() => '8\n'),
        poll_thread: param(() => int(rt(), 'ap.poll_thread', 0)),
        useirq: param(() => int(rt(), 'ap.useirq', 1)),
      }),
    }),
  })
}
