// The virsh drop-in's main: global options, the connection (which host of
// the state `-c URI` names), one command, and virsh's output frame.

import {type Env, writeOut} from '../cli/env.js'
import {AplabError} from '../core/errors.js'
import type {Host, World} from '../core/model.js'
import {ROOT_UID} from '../core/perm.js'
import {VirError, VirshFailure} from './errors.js'
import {COMMANDS, type VirshEnv, readOnlyCommand, runCommand} from './virsh.js'
import {type ParsedCmd, parseCommand} from './vshparse.js'
import {type OptDef, getoptLong, opt} from '../tools/getopt.js'
import {cChar, strtol} from '../tools/libc.js'
import {now} from '../core/clock.js'
import {newUuid} from '../cli/uuid.js'

/** The libvirt release virsh reports (`virsh --version`). */
export const LIBVIRT_VERSION = '11.6.0'

export interface VirshIo {
  stdout: string
  stderr: string
  code: number
  /** What was written, in order (1 stdout, 2 stderr): vshError flushes stdout before it writes. */
  chunks: Array<[1 | 2, string]>
}

export interface VirshHooks {
  /**
   * Run fn on the state: without the lock (read) or under it, saving what it
   * changed once fn's promise settles (write). Throwing saves nothing.
   */
  onWorld: <T>(mode: 'read' | 'write', fn: (w: World) => Promise<T>) => Promise<T>
  readFile: (path: string) => string
  newUuid: () => string
  /** $LIBVIRT_DEFAULT_URI */
  defaultUri?: string
  /** --host / $APLAB_HOST: the default connection's host. */
  host?: string
  /** The caller ($APLAB_UID): only root may manage the system connection. */
  uid?: number
  /** -l FILE: open (create) the log file for appending, mode 0600; throws when it cannot. */
  openLog?: (path: string) => void
  /** Append a line to the log file. */
  writeLog?: (path: string, text: string) => void
  /** The process's id, as the log's lines name it. */
  pid?: number
}

/** -V: virshShowVersion's first line (the list of what the build supports is left out). */
const longVersion = (): string => `Virsh command line tool of libvirt ${LIBVIRT_VERSION}\n`

const usage = (): string =>
  [
    '',
    '                    virsh [options]... [<command_string>]',
    '                    virsh [options]... <command> [args...]',
    '',
    '  options:',
    '    -c | --connect=URI      hypervisor connection URI',
    '    -d | --debug=NUM        debug level [0-4]',
    '    -e | --escape <char>    set escape sequence for console',
    '    -h | --help             this help',
    '    -k | --keepalive-interval=NUM',
    '                            keepalive interval in seconds, 0 for disable',
    '    -K | --keepalive-count=NUM',
    '                            number of possible missed keepalive messages',
    '    -l | --log=FILE         output logging to file',
    '    -q | --quiet            quiet mode',
    '    -r | --readonly         connect readonly',
    '    -t | --timing           print timing information',
    '    -v                      short version',
    '    -V                      long version',
    '         --version[=TYPE]   version, TYPE is short or long (default short)',
    '  commands (aplab emulates these; see virsh(1)):',
    ...COMMANDS.map((c) => `    ${c.name.padEnd(24)}${c.summary}`),
    '',
    '',
  ].join('\n')

/** Which host a connection URI names: the local one (qemu:///system), or another host of the state. */
function connect(w: World, uri: string | undefined, dflt: string | undefined): Host {
  const local = (): Host => {
    const want = dflt ?? w.current
    const h = w.hosts.find((x) => x.name === want)
    if (!h) throw new VirshFailure(['failed to connect to the hypervisor'], new VirError('SYSTEM_ERROR', `Cannot recv data: ssh: Could not resolve hostname ${want}: Name or service not known: Connection reset by peer`))
    return h
  }
  if (uri === undefined || uri === 'qemu:///system' || uri === 'qemu:///session') return local()
  const m = /^qemu(?:\+(?:ssh|tcp|tls|libssh|libssh2|unix))?:\/\/(?:[^@/]*@)?([^/:?]*)(?::\d+)?\/(?:system|session)(?:\?.*)?$/.exec(uri)
  if (!m) throw new VirshFailure(['failed to connect to the hypervisor'], new VirError('NO_CONNECT', uri))
  if (m[1] === '' || m[1] === 'localhost') return local()
  const h = w.hosts.find((x) => x.name === m[1])
  if (!h)
    throw new VirshFailure(
      ['failed to connect to the hypervisor'],
      new VirError('SYSTEM_ERROR', `Cannot recv data: ssh: Could not resolve hostname ${m[1]}: Name or service not known: Connection reset by peer`),
    )
  return h
}

/** virsh's global options (virsh.c virshParseArgv: getopt_long with "+:c:d:e:hk:K:l:qrtvV"). */
const GLOBAL_OPTS: OptDef[] = [
  opt('c', 'c', 'connect', 'required'),
  opt('d', 'd', 'debug', 'required'),
  opt('e', 'e', 'escape', 'required'),
  opt('h', 'h', 'help'),
  opt('k', 'k', 'keepalive-interval', 'required'),
  opt('K', 'K', 'keepalive-count', 'required'),
  opt('l', 'l', 'log', 'required'),
  opt('q', 'q', 'quiet'),
  opt('r', 'r', 'readonly'),
  opt('t', 't', 'timing'),
  opt('v', 'v'),
  {key: 'version', long: 'version', arg: 'optional'},
  opt('V', 'V'),
]

/** virStrToLong_i: the whole string one C int (strtol's blanks and sign allowed), else null. */
function strToInt(s: string, base: 0 | 10): number | null {
  const r = strtol(s, base)
  if (r.end === 0 || r.end !== s.length) return null
  return r.value >= -0x80000000 && r.value <= 0x7fffffff ? r.value : null
}

/** The escape characters virsh allows after `^` (virshAllowedEscapeChar): a-z, @ [ \ ] ^ _ and A-Z. */
const allowedEscape = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= '@' && c <= '_')

type Token = {kind: 'arg'; text: string} | {kind: 'end'}

/**
 * vsh.c vshCommandStringGetArg: a command string split as virsh splits it,
 * quotes and backslashes as a shell does them, `;` and newlines ending a
 * command, `#` starting a comment to the end of the line.
 */
function tokenize(str: string): Token[] | {error: string} {
  const out: Token[] = []
  let p = 0
  for (;;) {
    while (str[p] === ' ' || str[p] === '\t' || (str[p] === '\\' && str[p + 1] === '\n')) p += str[p] === '\\' ? 2 : 1
    if (p >= str.length) return out
    if (str[p] === ';' || str[p] === '\n') {
      p++
      out.push({kind: 'end'})
      continue
    }
    if (str[p] === '#') {
      while (p < str.length && str[p] !== '\n') p++
      if (p < str.length) p++
      out.push({kind: 'end'})
      continue
    }
    let single = false
    let double = false
    let text = ''
    while (p < str.length) {
      const c = str[p]
      if (!single && !double && (c === ' ' || c === '\t' || c === ';' || c === '\n')) break
      if (!double && c === "'") {
        single = !single
        p++
        continue
      }
      if (!single && c === '\\') {
        p++
        if (p >= str.length) return {error: 'dangling \\'}
        if (str[p] === '\n') {
          p++
          continue
        }
      } else if (!single && c === '"') {
        double = !double
        p++
        continue
      }
      text += str[p++]
    }
    if (double) return {error: 'missing "'}
    out.push({kind: 'arg', text})
  }
}

/** The commands of the command line: each command's words, as vshCommandStringParse or vshCommandArgvParse gives them. */
function splitCommands(rest: readonly string[]): string[][] | {error: string} {
  if (rest.length !== 1) return [rest.slice()]
  const toks = tokenize(rest[0])
  if ('error' in toks) return toks
  const cmds: string[][] = [[]]
  for (const t of toks) {
    if (t.kind === 'end') cmds.push([])
    else cmds[cmds.length - 1].push(t.text)
  }
  return cmds.filter((c) => c.length > 0)
}

export async function runVirsh(argv: readonly string[], hooks: VirshHooks): Promise<VirshIo> {
  // What virsh writes, in order: 1 stdout, 2 stderr (vshError flushes stdout first).
  const chunks: Array<[1 | 2, string]> = []
  const write = (fd: 1 | 2, t: string): void => {
    if (t) chunks.push([fd, t])
  }
  let logfile: string | undefined
  /** vshError: "error: " on stderr, and with -l a line in the log (vshOutputLogFile). */
  const error = (msg: string): void => {
    write(2, `error: ${msg}\n`)
    if (logfile !== undefined && hooks.writeLog) {
      const t = new Date(now())
      const p2 = (n: number): string => String(n).padStart(2, '0')
      const stamp = `${t.getFullYear()}.${p2(t.getMonth() + 1)}.${p2(t.getDate())} ${p2(t.getHours())}:${p2(t.getMinutes())}:${p2(t.getSeconds())}`
      hooks.writeLog(logfile, `[${stamp} virsh ${hooks.pid ?? process.pid}] ERROR ${msg.replace(/\n+$/, '')}\n`)
    }
  }
  const failure = (f: VirshFailure): void => {
    for (const l of [...f.lines, ...(f.cause ? [f.cause.message] : [])]) error(l)
  }
  const io = (code: number): VirshIo => {
    const stdout = chunks.filter(([fd]) => fd === 1).map(([, t]) => t).join('')
    const stderr = chunks.filter(([fd]) => fd === 2).map(([, t]) => t).join('')
    return {stdout, stderr, code, chunks}
  }
  let uri = hooks.defaultUri || undefined
  let quiet = false
  let readonly = false
  let timing = false
  const g = getoptLong(argv.slice(), GLOBAL_OPTS, true)
  for (const ev of g.events) {
    if (ev.kind === 'missing') {
      const d = GLOBAL_OPTS.find((o) => o.key === ev.key)!
      error(`option '-${d.short}'/'--${d.long}' requires an argument`)
      return io(1)
    }
    if (ev.kind === 'invalid') {
      error(ev.optopt ? `unsupported option '-${cChar(ev.optopt)}'. See --help.` : `unsupported option '${ev.word}'. See --help.`)
      return io(1)
    }
    const arg = ev.arg ?? ''
    switch (ev.key) {
      case 'c':
        uri = arg
        break
      case 'd': {
        const n = strToInt(arg, 10)
        if (n === null) {
          error(`option ${ev.word?.startsWith('--') ? '--debug' : '-d'} takes a numeric argument`)
          return io(1)
        }
        // Debug levels only decide which of virsh's own traces are printed; aplab prints none.
        if (n < 0 || n > 4) error(`ignoring debug level ${n} out of range [0-4]`)
        break
      }
      case 'e': {
        // The console's escape sequence: aplab has no console.
        const len = Buffer.byteLength(arg)
        if (!((len === 2 && arg[0] === '^' && allowedEscape(arg[1])) || (len === 1 && arg !== '^'))) {
          error(`Invalid string '${arg}' for escape sequence`)
          return io(1)
        }
        break
      }
      case 'h':
        write(1, usage())
        return io(0)
      case 'k':
      case 'K': {
        // Keepalive of the connection to libvirtd: aplab's connection never drops.
        const name = ev.word?.startsWith('--') ? (ev.key === 'k' ? '--keepalive-interval' : '--keepalive-count') : `-${ev.key}`
        const n = strToInt(arg, 0)
        if (n === null) {
          error(`Invalid value for option ${name}`)
          return io(1)
        }
        if (n < 0) {
          error(`option ${name} requires a positive integer argument`)
          return io(1)
        }
        break
      }
      case 'l':
        try {
          hooks.openLog?.(arg)
        } catch {
          error('failed to open the log file. check the log file path')
          return io(1)
        }
        logfile = arg
        break
      case 'q':
        quiet = true
        break
      case 'r':
        readonly = true
        break
      case 't':
        timing = true
        break
      case 'version':
        if (ev.arg === 'long') {
          write(1, longVersion())
          return io(0)
        }
        write(1, LIBVIRT_VERSION + '\n')
        return io(0)
      case 'v':
        write(1, LIBVIRT_VERSION + '\n')
        return io(0)
      case 'V':
        write(1, longVersion())
        return io(0)
    }
  }
  const rest = g.operands
  if (rest.length === 0) {
    // virsh would start its interactive shell here.
    write(1, usage())
    return io(0)
  }
  // `virsh ""`: vshCommandStringParse refuses an empty string, silently.
  if (rest.length === 1 && rest[0] === '') return io(1)
  const split = splitCommands(rest)
  if ('error' in split) {
    error(split.error)
    return io(1)
  }
  // Every command is parsed before the first one runs.
  const parsed: Array<ParsedCmd | 'help' | 'version'> = []
  for (const words of split) {
    const name = words[0]
    if (name === 'help' || name === 'version') {
      parsed.push(name)
      continue
    }
    const def = COMMANDS.find((c) => c.name === name)
    if (!def) {
      error(`unknown command: '${name}'`)
      return io(1)
    }
    try {
      parsed.push(parseCommand(def, words.slice(1)))
    } catch (e) {
      if (!(e instanceof VirshFailure)) throw e
      failure(e)
      return io(1)
    }
  }
  let ok = true
  for (const p of parsed) {
    const before = performance.now()
    ok = true
    if (p === 'help') write(1, usage())
    else if (p === 'version')
      // Reports the daemon's and QEMU's versions too.
      write(1, `Compiled against library: libvirt ${LIBVIRT_VERSION}\nUsing library: libvirt ${LIBVIRT_VERSION}\nUsing API: QEMU ${LIBVIRT_VERSION}\nRunning hypervisor: QEMU 10.1.0\n`)
    else {
      let connected = false
      try {
        await hooks.onWorld(readonly || readOnlyCommand(p.def.name) ? 'read' : 'write', async (world) => {
          const host = connect(world, uri, hooks.host)
          // libvirtd's polkit rule: an unprivileged caller gets the read-only socket only.
          if ((hooks.uid ?? ROOT_UID) !== ROOT_UID && !readonly)
            throw new VirshFailure(
              ['failed to connect to the hypervisor'],
              new VirError('AUTH_UNAVAILABLE', "no polkit agent available to authenticate action 'org.libvirt.unix.manage'"),
            )
          connected = true
          const env: VirshEnv = {host, world, readFile: hooks.readFile, newUuid: hooks.newUuid, readonly}
          let out = ''
          try {
            await runCommand(env, p, {out: (t) => (out += t), extra: (t) => (out += quiet ? '' : t), quiet})
          } finally {
            // vshError flushes stdout before it writes the error.
            write(1, out)
          }
        })
      } catch (e) {
        if (!(e instanceof VirshFailure)) throw e
        failure(e)
        // virsh connects before it runs the command: no command, no blank line after it.
        if (!connected) return io(1)
        ok = false
      }
    }
    // vshCommandRun: the time the command took, or a blank line (vshPrintExtra).
    if (timing) write(1, `\n(Time: ${(performance.now() - before).toFixed(3)} ms)\n\n`)
    else if (!quiet) write(1, '\n')
  }
  return io(ok ? 0 : 1)
}

/**
 * The drop-in: the state from the environment, files relative to the caller.
 * It runs from a bundle of its own, so aplab's errors (a state file that
 * cannot be read) are reported here, as the dispatcher would.
 */
export async function virshTool(argv: readonly string[], env: Env): Promise<number> {
  try {
    return await virshInner(argv, env)
  } catch (e) {
    if (!(e instanceof AplabError)) throw e
    writeOut(2, `virsh: ${e.message}\n`)
    return e.exitCode
  }
}

async function virshInner(argv: readonly string[], env: Env): Promise<number> {
  const [fs, store] = await Promise.all([import('node:fs'), import('../state/store.js')])
  const r = await runVirsh(argv, {
    onWorld: async (mode, fn) => (mode === 'read' ? fn(await store.load(env.state)) : store.mutate(env.state, fn)),
    readFile: (p) => fs.readFileSync(p, 'utf8'),
    newUuid,
    // LOGFILE_FLAGS: O_WRONLY | O_APPEND | O_CREAT | O_SYNC, FILE_MODE 0600.
    openLog: (p) => fs.closeSync(fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_SYNC, 0o600)),
    writeLog: (p, t) => fs.appendFileSync(p, t),
    defaultUri: process.env.LIBVIRT_DEFAULT_URI,
    host: env.host,
    uid: env.uid,
  })
  for (const [fd, t] of r.chunks) writeOut(fd, t)
  return r.code
}
