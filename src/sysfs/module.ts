// /sys/module: a directory for each loaded module (kernel/module/sysfs.c,
// main.c's modinfo attributes) and for each built-in module with parameters
// (kernel/params.c), as Linux 6.15 lays them out.
//
// - The built-in ap bus: `parameters/` and `uevent` only (no initstate:
//   kmod tells built-in modules by that). Its parameters (kernel-qemu.md
//   section 1.4) are read-only and for root only (0440). `domain` is the
//   live default domain; the others keep what the command line set:
//   `apmask` and `aqmask` its strings ("(null)" without one), `poll_thread`
//   and `useirq` its numbers (the poll_thread bus attribute starts and
//   stops the thread without changing the parameter).
// - A loaded module (the list lsmod and /proc/modules show, core/modules.ts):
//   coresize, initsize (0: its init sections are freed once it is live),
//   initstate (`live`), refcnt, taint (empty: in-tree and signed), uevent,
//   holders/ (links to the modules using it), drivers/ (links named
//   BUS:DRIVER to the drivers it registered, made with its first driver) and
//   parameters/ where it has module parameters (zcrypt's mempool_threshold,
//   from the same kernel series as ap's msgpool_min_items). The ELF
//   `sections/` and `notes/` of the .ko are not modelled, nor `srcversion`
//   (none of these modules has a MODULE_VERSION). The directory goes with
//   the module.

import {paramInt, parseCmdline} from '../core/host.js'
import type {Runtime} from '../core/model.js'
import type {LoadedModule} from '../core/modules.js'
import {line} from '../views/sysfs.js'
import {type DirNode, type FileNode, dir, lazyDir, link, mergeDirs, ro, wo} from './vfs.js'

const param = (show: () => string): FileNode => ({kind: 'file', mode: 0o440, show})

/** A charp parameter: the last value the command line gave. */
function charp(rt: Runtime, name: string): string {
  let v: string | undefined
  for (const [k, val] of parseCmdline(rt.cmdline)) if (k === name && val !== undefined) v = val
  return `${v ?? '(null)'}\n`
}

/** An int parameter: the last value the command line gave that parses (and `ok` accepts), else the default. */
function int(rt: Runtime, name: string, dflt: number, ok: (v: number) => boolean = () => true): string {
  let v = dflt
  for (const [k, val] of parseCmdline(rt.cmdline)) {
    const n = k === name ? paramInt(val) : null
    if (n !== null && ok(n)) v = n
  }
  return `${v}\n`
}

/**
 * Module parameters of the loadable modules. kmod passes a loadable
 * module the command line's `NAME.PARAM=` options when it loads it.
 * zcrypt refuses to load with a threshold below 1, which aplab does not
 * model: such a value is not taken.
 */
const PARAMETERS: Record<string, (rt: Runtime) => Record<string, FileNode>> = {
  zcrypt: (rt) => ({mempool_threshold: param(() => int(rt, 'zcrypt.mempool_threshold', 5, (v) => v >= 1 && v <= 0xffffffff))}),
}

function loadedModuleDir(rt: () => Runtime, mods: () => readonly LoadedModule[], first: LoadedModule): DirNode {
  const m = (): LoadedModule => mods().find((x) => x.name === first.name) ?? first
  const parameters = PARAMETERS[first.name]
  return dir({
    coresize: ro(() => line(m().size)),
    drivers: () =>
      first.drivers.length === 0
        ? undefined
        : dir(Object.fromEntries(first.drivers.map((d) => [d, link(`../../../bus/${d.replace(':', '/drivers/')}`)]))),
    holders: lazyDir(
      () => m().holders,
      (name) => (m().holders.includes(name) ? link(`../../${name}`) : undefined),
    ),
    initsize: ro(() => '0\n'),
    initstate: ro(() => 'live\n'),
    parameters: () => (parameters ? dir(parameters(rt())) : undefined),
    refcnt: ro(() => line(m().refcnt)),
    taint: ro(() => '\n'),
    uevent: wo(() => undefined),
  })
}

/** /sys/module of a host or guest whose loaded modules `mods` lists. */
export function moduleDir(rt: () => Runtime, mods: () => readonly LoadedModule[]): DirNode {
  const builtin = dir({
    ap: dir({
      parameters: dir({
        apmask: param(() => charp(rt(), 'ap.apmask')),
        aqmask: param(() => charp(rt(), 'ap.aqmask')),
        domain: param(() => `${rt().domain}\n`),
        msgpool_min_items: param(() => '8\n'),
        poll_thread: param(() => int(rt(), 'ap.poll_thread', 0)),
        useirq: param(() => int(rt(), 'ap.useirq', 1)),
      }),
      uevent: wo(() => undefined),
    }),
  })
  const loaded = lazyDir(
    () => mods().map((m) => m.name),
    (name) => {
      const m = mods().find((x) => x.name === name)
      return m ? loadedModuleDir(rt, mods, m) : undefined
    },
  )
  return mergeDirs(builtin, loaded)
}
