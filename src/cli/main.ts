// Entry points of the binaries. The mirrored tools are dispatched directly,
// without loading oclif: each call is a new process and scripts make many of
// them, so `lszcrypt`, `aplab lszcrypt` and friends start as fast as Node
// allows. A plainly named `aplab` command runs its class at once (src/cli/
// base.ts parses its line); oclif runs help and the rest.

import {type DropIn, runDropIn} from './dropin.js'
import {errorMessage, processEnv, stdStreams, writeDescriptors, writeOut} from './env.js'
import type {MdevctlProg} from './mdevctl.js'
import type {ZdevProg} from './zdev.js'
import type {HostTool} from './hosttools.js'
import {type SysfsFlags, type SysfsVerb, runSysfs} from './sysfs.js'

export const DROP_INS: readonly string[] = ['lszcrypt', 'chzcrypt', 'mdevctl', 'lsmdev', 'chzdev', 'lszdev', 'virsh', 'modprobe', 'lsmod', 'dmesg', 'qemu-system-s390x']

/**
 * The entry of the binaries (bin/*.js): `aplab` or a drop-in by its name.
 * Their output goes straight to the descriptors (env.ts writeDescriptors).
 */
export async function binMain(name: string, argv: string[]): Promise<void> {
  writeDescriptors()
  return name === 'aplab' ? aplabMain(argv) : dropInMain(name as DropIn, argv)
}

export async function dropInMain(tool: DropIn | MdevctlProg | ZdevProg | HostTool | 'virsh' | 'qemu-system-s390x', argv: string[]): Promise<void> {
  // QEMU's monitor talks through Node's streams; every other tool writes through env.ts writeOut.
  if (tool === 'qemu-system-s390x') stdStreams()
  let code: number
  try {
    const env = processEnv()
    code =
      tool === 'mdevctl' || tool === 'lsmdev'
        ? await (await import('./mdevctl.js')).runMdevctlTool(tool, argv, env)
        : tool === 'chzdev' || tool === 'lszdev'
          ? await (await import('./zdev.js')).runZdevTool(tool, argv, env)
          : tool === 'virsh'
            ? await (await import('../libvirt/run.js')).virshTool(argv, env)
            : tool === 'qemu-system-s390x'
              ? await (await import('../live/qemu/process.js')).runQemu(argv, env)
              : tool === 'modprobe' || tool === 'lsmod' || tool === 'dmesg'
              ? await (await import('./hosttools.js')).runHostTool(tool, argv, env)
              : await runDropIn(tool, argv, env)
  } catch (e) {
    const {message, exitCode} = errorMessage(e)
    writeOut(2, `${tool}: ${message}\n`)
    code = exitCode
  }
  process.exitCode = code
}

/**
 * `aplab [--state FILE] [--host NAME] COMMAND ...`: global options before
 * the command apply to every command, the mirrored tools included.
 */
let oclifConfig: import('@oclif/core').Config | undefined

export async function aplabMain(argv: string[]): Promise<void> {
  const args = [...argv]
  while (args.length > 0) {
    const m = /^--(state|host)(?:=(.*))?$/.exec(args[0])
    if (!m) break
    const value = m[2] ?? args[1]
    if (value === undefined) {
      // What oclif says of a flag without its value, with aplab's own --help.
      writeOut(2, `aplab: Flag --${m[1]} expects a value\nTry 'aplab --help' for more information.\n`)
      process.exitCode = 1
      return
    }
    if (value === '' && m[1] === 'state') {
      // An empty file name (a script's unset variable) must not fall back to the default lab.
      writeOut(2, 'aplab: --state needs a file name, not an empty string\n')
      process.exitCode = 1
      return
    }
    args.splice(0, m[2] === undefined ? 2 : 1)
    process.env[m[1] === 'state' ? 'APLAB_STATE' : 'APLAB_HOST'] = value
  }
  // Shell completion (aplab autocomplete): answered without oclif, for every key press.
  if (args[0] === '__complete') return (await import('./complete.js')).completeMain(args.slice(1))
  if (args[0] === 'ap-check' && args[1] === '--root' && args.length > 2) return apCheckMain(args[2], args.slice(3))
  if (args.length > 0 && DROP_INS.includes(args[0])) return dropInMain(args[0] as DropIn | MdevctlProg | ZdevProg | HostTool | 'virsh' | 'qemu-system-s390x', args.slice(1))
  if (await fastSysfs(args)) return
  stdStreams()
  if (args[0] === 'batch') {
    // Plain forms run without loading oclif; help and bad options go to it.
    const {parseBatchArgs, batchMain} = await import('./batch.js')
    const parsed = parseBatchArgs(args.slice(1))
    if (parsed) return batchMain(parsed.file, parsed.flags)
  }
  // `aplab help [COMMAND ...]` is `aplab [COMMAND ...] --help`, as in git and gh.
  if (args[0] === 'help') args.push(...args.splice(0, args.length).slice(1), '--help')
  // oclif answers --version (first on the line, before any help flag: `help --version`
  // too) with its user agent; the same line without it.
  if (args[0] === '--version') return writeOut(1, (await import('./version.js')).userAgent() + '\n')
  // oclif's debug output (DEBUG=oclif:*) is not aplab's to print.
  delete process.env.DEBUG
  // What oclif's run answers with help (its helpAddition): no words, or a help flag before
  // any `--`: --help, and -h (package.json's oclif.additionalHelpFlags).
  const end = args.indexOf('--')
  const helpFlag = args.length === 0 || (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h')
  let table: typeof import('../commands.js') | undefined
  try {
    // Help is oclif's Help class over the manifest (oclif-help.ts), without
    // oclif's Config or the command classes, wherever that gives oclif's text.
    if (helpFlag && (await (await import('./oclif-help.js')).helpHere(args))) return
    // A command named plainly runs at once (its class parses its line, with
    // oclif's parser only when its own cannot say); help, --version and
    // anything that is not plainly a command go through oclif's run, a
    // topic alone (oclif's help of it) through oclif-help.ts where it can.
    // The bundle knows the command ids (the build's __APLAB_COMMANDS), so
    // that the table is loaded only for a command it will run.
    const shapes = typeof __APLAB_COMMANDS === 'object' ? __APLAB_COMMANDS : commandShapes((table = await import('../commands.js')).COMMANDS)
    const id = args.some((a) => ['--help', '-h', '--version'].includes(a)) ? undefined : commandId(args, shapes)
    if (!id && !helpFlag && (await (await import('./oclif-help.js')).topicHere(args))) return
    // The command table and oclif come from one bundle (scripts/build.mjs), so
    // that oclif's own load of the explicit target finds the same classes.
    table ??= await import('../commands.js')
    if (id) {
      const command = table.COMMANDS[id as keyof typeof table.COMMANDS]
      command.id = id
      await command.run(args.slice(id.split(':').length))
    } else {
      const oclif = await table.loadOclif()
      oclifConfig ??= await oclif.Config.load(import.meta.url)
      await oclif.run(args, oclifConfig)
      await oclif.flush()
    }
  } catch (e) {
    const err = e as Error & {oclif?: {exit?: number}; skipOclifErrorHandling?: boolean}
    // Commands report their own errors (AplabCommand.catch); routing errors such as an
    // unknown command come here.
    if ((err as {code?: unknown}).code !== 'EEXIT' && !err.skipOclifErrorHandling) {
      // oclif names the whole command line as the command ("command guest:strat:guest1 not found"):
      // name the words up to the first unknown one, as the user typed them, and the nearest command.
      let msg = err.message.split('\n')[0]
      if (/^command .* not found\.?$/i.test(msg)) {
        const {unknownCommand} = await import('./suggest.js')
        table ??= await import('../commands.js')
        const u = unknownCommand(args, Object.keys(table.COMMANDS))
        msg = `command '${u.typed}' not found` + (u.suggestion ? `\nDid you mean '${u.suggestion}'?` : '')
      }
      process.stderr.write(`aplab: ${msg}\nTry 'aplab --help' for more information.\n`)
    }
    process.exitCode = err.oclif?.exit ?? 1
  }
}

/** Each command's id, and whether it takes arguments (a non-strict command takes any). */
export type CommandShapes = Record<string, boolean>

/** The build puts the command table's shapes here (scripts/build.mjs); unset outside the bundle. */
declare const __APLAB_COMMANDS: CommandShapes | undefined

/** The shapes of a command table. */
export function commandShapes(commands: Record<string, {strict?: boolean; args?: object}>): CommandShapes {
  return Object.fromEntries(Object.entries(commands).map(([id, c]) => [id, c.strict === false || Object.keys(c.args ?? {}).length > 0]))
}

/**
 * The id (words joined by `:`) of the command the leading words name, as
 * oclif reads it (its help/util.js collateSpacedCmdIDFromArgs): known words
 * of a command or topic are taken, and so is any further plain word while the
 * command so far takes no arguments (`host list extra` names no command).
 * Undefined when that is no command (oclif then says so).
 */
function commandId(args: string[], commands: CommandShapes): string | undefined {
  const usable = new Set<string>()
  for (const id of Object.keys(commands)) {
    const parts = id.split(':')
    for (let k = 1; k <= parts.length; k++) usable.add(parts.slice(0, k).join(':'))
  }
  const takesArgs = (id: string): boolean => Object.hasOwn(commands, id) && commands[id]
  let final: string[] = []
  if (args.length === 1) final = [args[0]]
  else
    for (const a of args) {
      if (usable.has([...final, a].join(':'))) final.push(a)
      else if (a.includes('=') || a.startsWith('-') || (final.length > 0 && takesArgs(final.join(':')))) break
      else final.push(a)
    }
  const id = final.join(':')
  return id && Object.hasOwn(commands, id) ? id : undefined
}

/**
 * `aplab sysfs cat|ls|write` in their plain forms run without loading oclif
 * (scripts call them in loops). Anything else (help, unknown options, a
 * missing operand) goes to oclif, which parses and reports it.
 */
async function fastSysfs(args: string[]): Promise<boolean> {
  if (args[0] !== 'sysfs' || !['cat', 'ls', 'write', 'readlink'].includes(args[1])) return false
  const verb = args[1] as SysfsVerb
  const operands: string[] = []
  const flags: {state?: string; host?: string} & SysfsFlags = {}
  // Each verb's own short options, alone or bundled (ls -l, readlink -fn).
  const shorts: Record<SysfsVerb, Record<string, (f: SysfsFlags) => void>> = {
    cat: {},
    ls: {l: (f) => void (f.long = true)},
    write: {n: (f) => void (f.noNewline = true)},
    readlink: {f: (f) => void (f.canonicalize = 'f'), e: (f) => void (f.canonicalize = 'e'), n: (f) => void (f.noNewline = true), v: (f) => void (f.verbose = true)},
  }
  const longs: Record<string, string> = {'--long': 'l', '--no-newline': 'n', '--canonicalize': 'f', '--canonicalize-existing': 'e', '--verbose': 'v'}
  for (let i = 2; i < args.length; i++) {
    const a = args[i]
    const m = /^--(state|host)(?:=(.*))?$/.exec(a)
    if (m) {
      const v = m[2] ?? args[++i]
      if (v === undefined) return false
      flags[m[1] as 'state' | 'host'] = v
    } else if (a === '--') operands.push(...args.slice(i + 1)), (i = args.length)
    else if (Object.hasOwn(longs, a) && Object.hasOwn(shorts[verb], longs[a])) shorts[verb][longs[a]](flags)
    else if (/^-[a-z]+$/.test(a) && [...a.slice(1)].every((c) => Object.hasOwn(shorts[verb], c))) for (const c of a.slice(1)) shorts[verb][c](flags)
    // A value of a sign and digits is a value, as oclif takes it: `write /sys/bus/ap/apmask -5,-6`.
    else if (verb === 'write' && operands.length === 1 && /^-[0-9]/.test(a)) operands.push(a)
    else if (a.startsWith('-') && a.length > 1) return false
    else operands.push(a)
  }
  if (verb === 'write' ? operands.length !== 2 : operands.length === 0) return false
  let code: number
  try {
    code = await runSysfs(verb, operands, processEnv(flags.state, flags.host), flags)
  } catch (e) {
    const {message, exitCode} = errorMessage(e)
    writeOut(2, `aplab: ${message}\n`)
    code = exitCode
  }
  process.exitCode = code
  return true
}

/**
 * `aplab ap-check --root ROOT ARGS...`: the ap-check callout of a tree
 * written by `aplab export`, run by a real mdevctl with MDEVCTL_ENV_ROOT.
 */
async function apCheckMain(root: string, argv: string[]): Promise<void> {
  const fs = await import('node:fs')
  const [{runApCheck}, {raise}] = await Promise.all([import('../tools/apcheck.js'), import('../tools/libc.js')])
  const {RealSys} = await import('../tools/sys.js')
  // Like the real one, read stdin only for the events that bring a JSON.
  const opt = (o: string): string | undefined => (argv.includes(o) ? argv[argv.indexOf(o) + 1] : undefined)
  const wantsInput = ['pre', 'post', 'live'].includes(opt('-e') ?? '') || (opt('-e') === 'get' && opt('-a') === 'capabilities')
  let stdin: string | null = null
  if (wantsInput)
    try {
      stdin = fs.readFileSync(0, 'latin1')
    } catch {
      stdin = null
    }
  const dir = root.replace(/\/+$/, '')
  const r = runApCheck(argv, stdin === '' ? null : stdin, new RealSys(dir + '/sys'), dir)
  if (r.stdout) writeOut(1, r.stdout)
  if (r.stderr) writeOut(2, r.stderr)
  // ap-check crashes in a few cases (chzdev-ap.md §4.6): die of the same signal.
  if (r.signal) raise(r.signal)
  process.exitCode = r.code
}
