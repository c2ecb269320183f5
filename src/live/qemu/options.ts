// The options of qemu-system-s390x that concern the process rather than the
// machine: -daemonize, -monitor, -qmp, -pidfile, -nographic, and the stdio
// chardevs (-serial, -chardev) a daemon refuses. The machine's
// options (-cpu, -device, -name, ...) are read by core/qemu/cmdline.ts parseQemuArgs
// through the same start as `aplab guest start`; this only picks out the
// process's part and refuses what QEMU refuses about it.

import * as path from 'node:path'

import {qemuOption} from '../../core/qemu/options.js'
import {stderrError} from '../../core/qemu/texts.js'

/** Where a monitor talks: the process's stdin/stdout, or a listening unix socket. */
export type Transport = {kind: 'stdio'} | {kind: 'unix'; path: string}

export interface Monitor {
  /** HMP (-monitor) or QMP (-qmp). */
  mode: 'hmp' | 'qmp'
  transport: Transport
  /** The option as given, for QEMU's error location: `-qmp unix:...`. */
  location: string
}

export interface ProcessOptions {
  daemonize: boolean
  monitors: Monitor[]
  pidfile?: string
  version: boolean
}

/** A refusal before anything starts: QEMU's stderr text and exit status 1. */
export class OptionRefusal extends Error {
  constructor(readonly stderr: string) {
    super(stderr)
  }
}

const refuse = (msg: string, location: string | null): never => {
  throw new OptionRefusal(stderrError(msg, location).map((l) => l + '\n').join(''))
}

const ON = /^(on|yes|true|y)$/
const OFF = /^(off|no|false|n)$/

/**
 * A chardev backend as -monitor and -qmp take it (qemu_chr_parse_compat):
 * `stdio`, `none`, or `unix:PATH[,server=on|off][,wait=on|off]` (and the old
 * `server`/`nowait` flags). aplab serves a unix socket as a server that does
 * not wait, as libvirt and scripts use it; other backends are refused.
 */
function transport(spec: string, location: string, cwd: string): Transport | null {
  if (spec === 'none') return null
  if (spec === 'stdio') return {kind: 'stdio'}
  const m = /^unix:([^,]+)((?:,[^,]*)*)$/.exec(spec)
  if (m) {
    let server = false
    let wait = true
    for (const o of m[2].split(',').slice(1)) {
      const [k, v] = o.includes('=') ? [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)] : [o, 'on']
      if (k === 'server' && (ON.test(v) || OFF.test(v))) server = ON.test(v)
      else if (k === 'wait' && (ON.test(v) || OFF.test(v))) wait = ON.test(v)
      else if (k === 'nowait') wait = false
      else unsupported(location)
    }
    if (!server || wait) unsupported(location)
    return {kind: 'unix', path: path.resolve(cwd, m[1])}
  }
  return unsupported(location)
}

/** A backend aplab does not emulate: said plainly, with aplab's name, exit 1. */
function unsupported(location: string): never {
  throw new OptionRefusal(`qemu-system-s390x: ${location}: aplab emulates the monitor only on stdio, none or unix:PATH,server=on,wait=off\n`)
}

/**
 * A -chardev's backend and id (QemuOpts with the implied `backend`):
 * `stdio,id=x` or `id=x,backend=stdio`.
 */
function chardevSpec(spec: string): {backend?: string; id?: string} {
  const out: {backend?: string; id?: string} = {}
  spec.split(',').forEach((item, k) => {
    const eq = item.indexOf('=')
    if (eq < 0 && k === 0) out.backend = item
    else if (item.startsWith('backend=')) out.backend = item.slice(8)
    else if (item.startsWith('id=')) out.id = item.slice(3)
  })
  return out
}

/** Pick the process's options out of QEMU's arguments (which still go whole to parseQemuArgs). */
export function processOptions(argv: readonly string[], cwd: string): ProcessOptions {
  const o: ProcessOptions = {daemonize: false, monitors: [], version: false}
  let nographic = false
  // system/vl.c: what the user sets up disables QEMU's default serial port and monitor.
  let defaultSerial = true
  let defaultMonitor = true
  let hasDefaults = true
  // Chardevs created early (qemu_create_early_backends: -chardev and the monitors', in command-line order).
  let stdioChardevAt: string | null = null
  // -serial ports, created late (qemu_create_late_backends, serial_parse).
  let stdioSerial: {spec: string; location: string} | null = null
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('-')) continue
    const name = a.startsWith('--') ? a.slice(2) : a.slice(1)
    const d = qemuOption(name)
    // Unknown options and missing arguments are parseQemuArgs's to report.
    if (!d) return o
    const arg = d.takesArgument ? argv[++i] : undefined
    if (d.takesArgument && arg === undefined) return o
    const location = d.takesArgument ? `${a} ${arg}` : a
    if (name === 'daemonize') o.daemonize = true
    else if (name === 'nographic') nographic = true
    else if (name === 'nodefaults') hasDefaults = false
    else if (name === 'version') o.version = true
    else if (name === 'pidfile') o.pidfile = path.resolve(cwd, arg!)
    else if (name === 'mon')
      throw new OptionRefusal(`qemu-system-s390x: ${location}: aplab emulates the monitor only as -monitor or -qmp on stdio, none or unix:PATH,server=on,wait=off\n`)
    else if (name === 'monitor' || name === 'qmp') {
      defaultMonitor = false
      const t = transport(arg!, location, cwd)
      if (t) o.monitors.push({mode: name === 'qmp' ? 'qmp' : 'hmp', transport: t, location})
      if (t?.kind === 'stdio') stdioChardevAt ??= location
    } else if (name === 'serial') {
      defaultSerial = false
      if (arg!.startsWith('mon:')) defaultMonitor = false
      if (arg === 'stdio' || arg === 'mon:stdio') stdioSerial ??= {spec: arg, location}
    } else if (name === 'chardev') {
      // A chardev without an id fails whether or not QEMU is a daemon; aplab leaves it be.
      const c = chardevSpec(arg!)
      if (c.backend === 'stdio' && c.id) stdioChardevAt ??= location
    }
  }
  if (o.daemonize) {
    // system/vl.c qemu_create_default_devices: -nographic would put the default
    // serial port and monitor on stdio, which a daemon has not (a no-op when
    // both are given otherwise).
    if (nographic && hasDefaults && (defaultSerial || defaultMonitor)) refuse('-nographic cannot be used with -daemonize', null)
    // chardev/char-stdio.c: a stdio chardev refuses; error_fatal at the option's place.
    if (stdioChardevAt) refuse('cannot use stdio with -daemonize', stdioChardevAt)
    // serial_parse: qemu_chr_new_noreplay reports the chardev's error, then the port fails.
    if (stdioSerial)
      throw new OptionRefusal(
        [
          ...stderrError('cannot use stdio with -daemonize', stdioSerial.location),
          ...stderrError(`could not connect serial device to character backend '${stdioSerial.spec}'`, stdioSerial.location),
        ]
          .map((l) => l + '\n')
          .join(''),
      )
  }
  return o
}
