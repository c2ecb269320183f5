// kmod's modprobe and lsmod (kmod 34, tools/modprobe.c and tools/lsmod.c)
// as drop-ins on the emulated host. Loading and unloading are the core's
// (core/modules.ts, the same as `aplab modprobe`); what is kmod's own is
// here: its options, which messages its log levels let through (-q, -a),
// what -r does with a module that is not loaded, and lsmod's table.

import {ToolExit} from '../core/errors.js'
import {BUILTIN, KERNEL_RELEASE, LOADABLE, type LoadedModule, ZCRYPT, modprobe} from '../core/modules.js'
import type {Host} from '../core/model.js'
import {type OptDef, getoptLong, getoptMessage, opt as o} from './getopt.js'

/** What a drop-in run prints and its exit status. */
export interface KmodResult {
  stdout: string
  stderr: string
  code: number
}

export const KMOD_VERSION = 'kmod version 34\n+ZSTD +XZ +ZLIB +LIBCRYPTO -EXPERIMENTAL\n'

/** Where each module's file would be (modprobe -n prints it). */
const KO_PATH: Record<string, string> = {vfio_ap: `/lib/modules/${KERNEL_RELEASE}/kernel/drivers/s390/crypto/vfio_ap.ko.xz`}

const MODPROBE_OPTS: OptDef[] = [
  o('a', 'a', 'all'),
  o('r', 'r', 'remove'),
  o('remove-dependencies', undefined, 'remove-dependencies'),
  o('remove-holders', undefined, 'remove-holders'),
  o('w', 'w', 'wait', 'required'),
  o('resolve-alias', undefined, 'resolve-alias'),
  o('R', 'R', 'show-alias'),
  o('first-time', undefined, 'first-time'),
  o('i', 'i', 'ignore-install'),
  o('i', 'i', 'ignore-remove'),
  o('b', 'b', 'use-blacklist'),
  o('f', 'f', 'force'),
  o('force-modversion', undefined, 'force-modversion'),
  o('force-vermagic', undefined, 'force-vermagic'),
  o('D', 'D', 'show-depends'),
  o('showconfig', undefined, 'showconfig'),
  o('c', 'c', 'show-config'),
  o('show-modversions', undefined, 'show-modversions'),
  o('dump-modversions', undefined, 'dump-modversions'),
  o('show-exports', undefined, 'show-exports'),
  o('n', 'n', 'dry-run'),
  o('show', undefined, 'show'),
  o('C', 'C', 'config', 'required'),
  o('d', 'd', 'dirname', 'required'),
  o('S', 'S', 'set-version', 'required'),
  o('s', 's', 'syslog'),
  o('q', 'q', 'quiet'),
  o('v', 'v', 'verbose'),
  o('V', 'V', 'version'),
  o('h', 'h', 'help'),
]

export const modprobeHelp = (p: string): string =>
  `Usage:\n\t${p} [options] [-i] [-b] modulename\n\t${p} [options] -a [-i] [-b] modulename [modulename...]\n\t${p} [options] -r [-i] modulename\n\t${p} [options] -r -a [-i] modulename [modulename...]\n\t${p} [options] -c\n\t${p} [options] --show-modversions filename\n` +
  'Management Options:\n' +
  '\t-a, --all                   Consider every non-argument to\n\t                            be a module name to be inserted\n\t                            or removed (-r)\n' +
  '\t-r, --remove                Remove modules instead of inserting\n' +
  '\t    --remove-holders        Also remove module holders (use together with -r)\n' +
  "\t-w, --wait MSEC             When removing a module, wait up to MSEC for\n\t                            module's refcount to become 0 so it can be\n\t                            removed (use together with -r)\n" +
  '\t    --first-time            Fail if module already inserted or removed\n' +
  '\t-i, --ignore-install        Ignore install commands\n' +
  '\t-i, --ignore-remove         Ignore remove commands\n' +
  '\t-b, --use-blacklist         Apply blacklist to resolved alias.\n' +
  '\t-f, --force                 Force module insertion or removal.\n\t                            implies --force-modversion and\n\t                            --force-vermagic\n' +
  "\t    --force-modversion      Ignore module's version\n" +
  "\t    --force-vermagic        Ignore module's version magic\n" +
  '\n' +
  'Query Options:\n' +
  '\t-R, --show-alias            Print module(s) matching given alias and exit\n' +
  '\t-D, --show-depends          Print module dependencies and exit\n' +
  '\t-c, --show-config           Print known configuration and exit\n' +
  '\t    --show-modversions      Print module symbol version and exit\n' +
  '\t    --show-exports          Print module exported symbol versions and exit\n' +
  '\n' +
  'General Options:\n' +
  '\t-n, --dry-run               Do not execute operations, just print out\n' +
  '\t-C, --config FILE           Use FILE instead of default search paths\n' +
  '\t-d, --dirname DIR           Use DIR as filesystem root for /lib/modules\n' +
  '\t-S, --set-version VERSION   Use VERSION instead of $(uname -r)\n' +
  '\t-s, --syslog                print to syslog, not stderr\n' +
  '\t-q, --quiet                 disable messages\n' +
  '\t-v, --verbose               enables more messages\n' +
  '\t-V, --version               show version\n' +
  '\t-h, --help                  show this help\n'

/** The command line of a modprobe run, as far as the emulated host acts on it. */
export interface ModprobeArgs {
  remove: boolean
  all: boolean
  quiet: boolean
  firstTime: boolean
  dryRun: boolean
  verbose: number
  names: string[]
  /** Deprecation warnings of the options, printed first. */
  warnings: string
}

/** Parse modprobe's options; a result that ends the run (help, version, errors) is returned as such. */
export function parseModprobe(argv: string[]): ModprobeArgs | KmodResult {
  const p = 'modprobe'
  const a: ModprobeArgs = {remove: false, all: false, quiet: false, firstTime: false, dryRun: false, verbose: 0, names: [], warnings: ''}
  const g = getoptLong(argv, MODPROBE_OPTS)
  let stderr = ''
  for (const ev of g.events) {
    if (ev.kind !== 'opt') return {stdout: '', stderr: getoptMessage(p, ev, MODPROBE_OPTS), code: 1}
    switch (ev.key) {
      case 'a':
        a.all = true
        break
      case 'r':
        a.remove = true
        break
      case 'remove-dependencies':
        stderr += `${p}: WARNING: --remove-dependencies is deprecated and scheduled for removal; use --remove-holders\n`
        a.remove = true
        break
      case 'remove-holders':
        a.remove = true
        break
      case 'w':
        if (!/^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(ev.arg!.trim()) || ev.arg!.trim() !== ev.arg)
          return {stdout: '', stderr: stderr + `${p}: ERROR: unexpected wait value '${ev.arg}'.\n`, code: 1}
        break
      case 'first-time':
        a.firstTime = true
        break
      case 'show':
        stderr += `${p}: WARNING: --show is deprecated and scheduled for removal; use --dry-run\n`
        a.dryRun = true
        break
      case 'n':
        a.dryRun = true
        break
      case 'q':
        a.quiet = true
        break
      case 'v':
        a.verbose++
        break
      case 'V':
        return {stdout: KMOD_VERSION, stderr, code: 0}
      case 'h':
        return {stdout: modprobeHelp(p), stderr, code: 0}
      case 'c':
      case 'showconfig':
      case 'R':
      case 'resolve-alias':
      case 'D':
      case 'show-modversions':
      case 'dump-modversions':
      case 'show-exports':
        return {stdout: '', stderr: stderr + `${p}: ERROR: the emulated host's modprobe does not implement --${MODPROBE_OPTS.find((d) => d.key === ev.key)?.long}\n`, code: 1}
      default:
        // -i, -b, -f, --force-*, -C, -d, -S, -s: accepted; nothing of the emulated host depends on them.
        break
    }
  }
  a.names = g.operands
  if (a.names.length === 0) return {stdout: '', stderr: stderr + `${p}: ERROR: missing parameters. See -h.\n`, code: 1}
  a.warnings = stderr
  return a
}

const normal = (m: string): string => m.replace(/-/g, '_')

/**
 * modprobe on the host: insert the first name (the rest are its parameters)
 * or, with -a, every name; remove (-r) every name. kmod's log levels:
 * FATAL ends the run at once, -q silences FATAL and ERROR, -a turns the
 * lookup failures into warnings.
 */
export function runModprobe(host: Host, a: ModprobeArgs, uid: number): KmodResult {
  let stdout = ''
  let stderr = a.warnings
  let failed = false
  /** A kmod log line: FATAL (LOG in modprobe.c, a warning with -a) or ERROR. */
  const log = (text: string): void => {
    const fatal = text.includes(': FATAL: ')
    const shown = a.all && fatal ? text.replace(': FATAL: ', ': WARNING: ') : text
    if (!a.quiet) stderr += shown
    failed = true
    if (fatal && !a.all && !a.quiet) throw new ToolExit(shown, 1)
  }
  const names = a.remove || a.all ? a.names : a.names.slice(0, 1)
  try {
    for (const given of names) {
      const name = normal(given)
      const known = [...BUILTIN, ...ZCRYPT, ...LOADABLE].includes(name)
      const loaded = BUILTIN.includes(name) || ZCRYPT.includes(name) || host.runtime.modules.includes(name)
      if (a.remove) {
        if (!known) {
          log(`modprobe: FATAL: Module ${given} not found.\n`)
          continue
        }
        if (BUILTIN.includes(name)) {
          log(`modprobe: FATAL: Module ${name} is builtin.\n`)
          continue
        }
        if (!loaded) {
          if (a.firstTime) log(`modprobe: FATAL: Module ${name} is not in kernel.\n`)
          continue
        }
        if (a.dryRun) {
          if (a.verbose > 0) stdout += `rmmod ${name}\n`
          continue
        }
      } else {
        if (known && loaded && a.firstTime) {
          log(`modprobe: ERROR: could not insert '${name}': Module already in kernel\n`)
          continue
        }
        if (a.dryRun) {
          if (!known) log(`modprobe: FATAL: Module ${given} not found in directory /lib/modules/${KERNEL_RELEASE}\n`)
          else if (!loaded && KO_PATH[name]) stdout += `insmod ${KO_PATH[name]} \n`
          continue
        }
        if (a.verbose > 0 && known && !loaded && KO_PATH[name]) stdout += `insmod ${KO_PATH[name]} \n`
      }
      try {
        modprobe(host, given, a.remove, uid)
      } catch (e) {
        if (!(e instanceof ToolExit)) throw e
        log(e.message)
      }
    }
  } catch (e) {
    if (!(e instanceof ToolExit)) throw e
    return {stdout, stderr, code: 1}
  }
  return {stdout, stderr, code: failed ? 1 : 0}
}

/**
 * lsmod's table (tools/lsmod.c): `%-19s %8ld  %d` and the holders after a
 * space, joined by commas. kmod reads the list from /proc/modules, each
 * size from /sys/module/NAME/coresize, the use count from .../refcnt and
 * the holders from .../holders/: the same list (core/modules.ts
 * loadedModules) that the emulated files show.
 */
export function lsmodText(mods: Array<Pick<LoadedModule, 'name' | 'size' | 'refcnt' | 'holders'>>): string {
  let out = 'Module                  Size  Used by\n'
  for (const m of mods) out += `${m.name.padEnd(19)} ${String(m.size).padStart(8)}  ${m.refcnt}${m.holders.length ? ' ' + m.holders.join(',') : ''}\n`
  return out
}

const LSMOD_OPTS: OptDef[] = [o('s', 's', 'syslog'), o('v', 'v', 'verbose'), o('V', 'V', 'version'), o('h', 'h', 'help')]

export const lsmodHelp = (p: string): string =>
  `Usage:\n\t${p} [options]\nOptions:\n\t-s, --syslog      print to syslog, not stderr\n\t-v, --verbose     enables more messages\n\t-V, --version     show version\n\t-h, --help        show this help\n`

/** lsmod's options; null when the table is to be printed. */
export function parseLsmod(argv: string[]): KmodResult | null {
  const g = getoptLong(argv, LSMOD_OPTS)
  for (const ev of g.events) {
    if (ev.kind !== 'opt') return {stdout: '', stderr: getoptMessage('lsmod', ev, LSMOD_OPTS), code: 1}
    if (ev.key === 'h') return {stdout: lsmodHelp('lsmod'), stderr: '', code: 0}
    if (ev.key === 'V') return {stdout: KMOD_VERSION, stderr: '', code: 0}
  }
  if (g.operands.length > 0) return {stdout: '', stderr: 'lsmod: ERROR: too many arguments provided.\n', code: 1}
  return null
}
