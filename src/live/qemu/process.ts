// qemu-system-s390x as a process: the guest runs while the process runs.
// It starts through the same code as `aplab guest start` (cli/guest.ts
// start, core/qemu/cmdline.ts parseQemuArgs), records itself in the guest (pid and
// start time, as the state's lock records its owner) so that a guest whose
// process is gone is seen as ended, serves the HMP and QMP monitors, and
// ends the guest on SIGTERM, SIGINT, SIGHUP or `quit` as QEMU does.

import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as nodePath from 'node:path'

import {type Env, errorMessage, pickHost} from '../../cli/env.js'
import {packageRoot} from '../../cli/package.js'
import {ERRNO, type Errno, ToolExit, strerror} from '../../core/errors.js'
import {type RunState, findGuest, hostCpuFacts, runState, stopGuest} from '../../core/guest.js'
import type {Guest, GuestProcess} from '../../core/model.js'
import {parseQemuArgs} from '../../core/qemu/cmdline.js'
import {load, mutate} from '../../state/store.js'
import {GuestGone, HMP_BANNER, HMP_PROMPT, type Json, type QmpSession, type Vm, hmpCommand, qjson, qmpGreeting, qmpRequest} from './monitor.js'
import {type Monitor, OptionRefusal, type ProcessOptions, processOptions} from './options.js'

const PROG = 'qemu-system-s390x'
/** Set in the environment of the daemon -daemonize starts; never seen by the user. */
const DAEMON_ENV = 'APLAB_QEMU_DAEMON'
/** The daemon's end of the pipe to the process that waits for it. */
const DAEMON_FD = 3

export const VERSION_OUTPUT = 'QEMU emulator version 10.1.0\nCopyright (c) 2003-2025 Fabrice Bellard and the QEMU Project developers\n'

/** The process's record in its guest: as src/state/lock.ts records the lock's owner. */
async function record(): Promise<GuestProcess> {
  const {self} = await import('../../state/lock.js')
  const o = self()
  return {pid: o.pid, ...(o.start !== undefined ? {start: o.start} : {}), ...(o.boot !== undefined ? {boot: o.boot} : {}), host: o.host}
}

const ours = (g: Guest, me: GuestProcess): boolean => g.running && g.process?.pid === me.pid && g.process.start === me.start && g.process.host === me.host

/** `qemu-system-s390x ARGS...`: its exit status, once the guest has ended. */
export async function runQemu(argv: string[], env: Env): Promise<number> {
  const daemon = process.env[DAEMON_ENV] === '1'
  delete process.env[DAEMON_ENV]
  let opts: ProcessOptions
  try {
    opts = processOptions(argv, process.cwd())
  } catch (e) {
    if (!(e instanceof OptionRefusal)) throw e
    process.stderr.write(e.stderr)
    return 1
  }
  if (opts.daemonize && !daemon) return launchDaemon(argv)
  // Until the guest runs, what QEMU prints goes to the caller (the daemon hands it over).
  let said = ''
  const say = (t: string): void => {
    if (daemon) said += t
    else process.stderr.write(t)
  }
  const ready = (code: number): void => {
    if (!daemon) return
    try {
      fs.writeSync(DAEMON_FD, JSON.stringify({stderr: said, code}))
      fs.closeSync(DAEMON_FD)
    } catch {
      // the caller is gone
    }
  }
  const servers: Array<{server: net.Server; path: string}> = []
  const fail = (text: string, code: number): number => {
    for (const s of servers) closeServer(s)
    say(text)
    ready(code)
    return code
  }
  // The chardevs (sockets) come before the machine, as in QEMU.
  for (const m of opts.monitors)
    if (m.transport.kind === 'unix') {
      try {
        servers.push({server: await listen(m.transport.path), path: m.transport.path})
      } catch (e) {
        return fail(`${PROG}: ${m.location}: Failed to bind socket to ${m.transport.path}: ${errnoText(e)}\n`, 1)
      }
    }
  const me = await record()
  let name = ''
  let givenName: string | undefined
  try {
    const {start, withKvm} = await import('../../cli/guest.js')
    say(
      await mutate(env.state, (w) => {
        const host = pickHost(w, env.host)
        try {
          givenName = parseQemuArgs(withKvm(argv), hostCpuFacts(host)).name
        } catch {
          // start() reports it
        }
        // Without -name the guest has no name in QEMU; aplab needs one for the state.
        name = givenName ?? `qemu-${process.pid}`
        const warnings = start(w, host, name, argv, {libvirt: false, autostart: false, uid: env.uid})
        findGuest(w, name)!.guest.process = me
        return warnings
      }),
    )
  } catch (e) {
    if (e instanceof ToolExit) {
      // -version: QEMU's version lines; other early exits (help) print nothing here.
      const out = e.exitCode === 0 && opts.version ? VERSION_OUTPUT : ''
      if (out) process.stdout.write(out)
      return fail(e.message, e.exitCode)
    }
    return fail(`${PROG}: ${errorMessage(e).message}\n`, errorMessage(e).exitCode)
  }
  if (opts.pidfile) {
    try {
      fs.writeFileSync(opts.pidfile, `${process.pid}\n`)
    } catch (e) {
      await endGuest(env, name, me)
      return fail(`${PROG}: cannot create PID file: ${errnoText(e)}\n`, 1)
    }
  }
  return serve({env, name, givenName, me, opts, servers, daemon, ready})
}

/** glibc's strerror text of a system call's failure. */
const errnoText = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException).code ?? ''
  return code in ERRNO ? strerror(code as Errno) : (e as Error).message
}

/** Listen on a unix socket path, as QEMU does: an old socket file there is replaced. */
function listen(path: string): Promise<net.Server> {
  try {
    if (fs.lstatSync(path).isSocket()) fs.unlinkSync(path)
  } catch {
    // nothing there
  }
  return new Promise((resolve, reject) => {
    const server = net.createServer({pauseOnConnect: true})
    // libuv reports a missing directory as EACCES; bind(2) says ENOENT.
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EACCES' && !fs.existsSync(nodePath.dirname(path)) ? Object.assign(e, {code: 'ENOENT'}) : e))
    server.listen(path, () => resolve(server))
  })
}

function closeServer(s: {server: net.Server; path: string}): void {
  s.server.close()
  try {
    fs.unlinkSync(s.path)
  } catch {
    // gone already
  }
}

/** The guest ends (the process's vfio device is closed): stopped in the state, if it is still this process's. */
async function endGuest(env: Env, name: string, me: GuestProcess): Promise<void> {
  await mutate(env.state, (w) => {
    const f = findGuest(w, name)
    if (f && ours(f.guest, me)) {
      stopGuest(f.guest)
      delete f.guest.process
    }
  })
}

interface Running {
  env: Env
  name: string
  givenName: string | undefined
  me: GuestProcess
  opts: ProcessOptions
  servers: Array<{server: net.Server; path: string}>
  daemon: boolean
  ready: (code: number) => void
}

/** The running guest: monitors, signals, and the end. Resolves with the exit status. */
async function serve(r: Running): Promise<number> {
  const {watchState} = await import('../../state/watch.js')
  // The run state the QMP clients know of: what this process's monitors did, or the
  // watcher saw another command do (aplab guest pause and resume act as a second monitor).
  const first = findGuest(await load(r.env.state), r.name)
  let known: RunState | null = first && ours(first.guest, r.me) ? runState(first.guest) : null
  // The monitors' changes and the watcher's checks one at a time: a check never reads a
  // state older than a change that has already told its clients.
  let turn: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = turn.then(fn)
    turn = p.catch(() => undefined)
    return p
  }
  return new Promise<number>((resolve) => {
    const sinks = new Set<{session: QmpSession; write: (t: string) => void}>()
    // Keeps the process alive while the guest runs (signal handlers do not).
    const alive = setInterval(() => undefined, 1 << 30)
    let ending = false
    let stopWatching = (): void => undefined
    const end = async (how: {signal?: number; reason?: string; touch?: boolean}): Promise<void> => {
      if (ending) return
      ending = true
      if (how.signal !== undefined && !r.daemon) process.stderr.write(`${PROG}: terminating on signal ${how.signal}\n`)
      if (how.reason) vm.event('SHUTDOWN', {guest: false, reason: how.reason})
      try {
        if (how.touch !== false) await endGuest(r.env, r.name, r.me)
      } catch (e) {
        if (!r.daemon) process.stderr.write(`${PROG}: ${errorMessage(e).message}\n`)
      }
      stopWatching()
      for (const s of r.servers) closeServer(s)
      if (r.opts.pidfile)
        try {
          fs.unlinkSync(r.opts.pidfile)
        } catch {
          // gone already
        }
      clearInterval(alive)
      resolve(0)
      // Open monitor connections and stdin must not keep the process.
      setImmediate(() => process.exit(0))
    }
    const vm: Vm = {
      givenName: r.givenName,
      uid: r.env.uid,
      change: (fn) =>
        serial(async () => {
          let after: RunState | null = known
          const out = await mutate(r.env.state, (w) => {
            const f = findGuest(w, r.name)
            if (!f || !ours(f.guest, r.me)) throw new GuestGone()
            const v = fn(w, f.host, f.guest)
            after = runState(f.guest)
            return v
          })
          // Its own events go out with the reply (monitor.ts).
          known = after
          return out
        }),
      quit: (reason) => {
        pendingQuit = reason === 'host-qmp-quit-hmp' ? 'host-qmp-quit' : reason
      },
      event: (name: string, data?: Json) => {
        const us = Math.floor((performance.timeOrigin + performance.now()) * 1000)
        // An event without data (STOP, RESUME) has no data member.
        const text = qjson({timestamp: {seconds: Math.floor(us / 1e6), microseconds: us % 1e6}, event: name, ...(data !== undefined ? {data} : {})})
        for (const s of sinks) if (s.session.negotiated) s.write(text + '\r\n')
      },
    }
    let pendingQuit: string | null = null
    /** After each command: a quit asked for ends the guest; a guest taken away ends the process. */
    const after = async (e?: unknown): Promise<boolean> => {
      if (e instanceof GuestGone) {
        await end({touch: false})
        return true
      }
      if (e) throw e
      if (pendingQuit) {
        await end({reason: pendingQuit})
        return true
      }
      return false
    }
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
      process.on(sig, () => void end({signal: {SIGTERM: 15, SIGINT: 2, SIGHUP: 1}[sig], reason: 'host-signal'}))
    for (const m of r.opts.monitors) {
      const serveOne = (input: NodeJS.ReadableStream, write: (t: string) => void, done: () => void, oob: boolean): void =>
        m.mode === 'hmp' ? hmp(input, write, done, after, vm, m) : qmp(input, write, done, after, vm, sinks, oob)
      if (m.transport.kind === 'stdio') serveOne(process.stdin, (t) => process.stdout.write(t), () => undefined, false)
      else {
        const s = r.servers.find((x) => x.path === (m.transport as {path: string}).path)!
        // One client at a time; the next waits until the one before has gone.
        const queue: net.Socket[] = []
        let busy = false
        const next = (): void => {
          const sock = queue.shift()
          if (!sock) return void (busy = false)
          busy = true
          sock.on('error', () => undefined)
          sock.resume()
          serveOne(sock, (t) => void (sock.writable && sock.write(t)), next, true)
        }
        s.server.on('connection', (sock) => {
          queue.push(sock)
          if (!busy) next()
        })
      }
    }
    // The other way round: a command that ends the guest (aplab guest stop, a host reboot)
    // ends its process, as killing QEMU would.
    const watch = watchState(r.env.state, () =>
      serial(async () => {
        if (ending) return
        const w = await load(r.env.state)
        const f = findGuest(w, r.name)
        if (!f || !ours(f.guest, r.me)) return void (await end({reason: 'host-signal', touch: false}))
        // vm_stop and vm_start by another: STOP when the CPUs stopped, RESUME when they run again
        // (a reset of a paused guest, paused to prelaunch, sends neither).
        const now = runState(f.guest)
        if (known === 'running' && now !== 'running') vm.event('STOP')
        else if (known !== null && known !== 'running' && now === 'running') vm.event('RESUME')
        known = now
      }),
    )
    stopWatching = () => watch.close()
    if (r.daemon) {
      process.chdir('/')
      process.umask(0o027)
    }
    r.ready(0)
  })
}

/** The human monitor on one stream: banner, prompt, one command per line; "\r\n" as QEMU's monitor writes. */
function hmp(input: NodeJS.ReadableStream, write: (t: string) => void, done: () => void, after: (e?: unknown) => Promise<boolean>, vm: Vm, m: Monitor): void {
  const out = (t: string): void => write(t.replace(/\n/g, '\r\n'))
  const tty = m.transport.kind === 'stdio' && Boolean((process.stdin as {isTTY?: boolean}).isTTY)
  out(HMP_BANNER + HMP_PROMPT)
  let buf = ''
  let chain = Promise.resolve(false)
  input.setEncoding('utf8')
  input.on('data', (d: string) => {
    buf += d
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '')
      buf = buf.slice(nl + 1)
      chain = chain.then(async (over) => {
        if (over) return true
        // The monitor's readline echoes what it reads (a terminal echoes by itself).
        if (!tty) out(line + '\n')
        let text: string
        try {
          text = await hmpCommand(vm, line)
        } catch (e) {
          return after(e)
        }
        out(text)
        if (await after()) return true
        out(HMP_PROMPT)
        return false
      })
    }
  })
  input.on('end', () => void chain.then(done))
}

/** QMP on one stream: the greeting, then one JSON object after the other. */
function qmp(
  input: NodeJS.ReadableStream,
  write: (t: string) => void,
  done: () => void,
  after: (e?: unknown) => Promise<boolean>,
  vm: Vm,
  sinks: Set<{session: QmpSession; write: (t: string) => void}>,
  oob: boolean,
): void {
  const session: QmpSession = {negotiated: false}
  const sink = {session, write}
  sinks.add(sink)
  write(qmpGreeting(oob) + '\r\n')
  const split = jsonSplitter()
  let chain = Promise.resolve(false)
  input.setEncoding('utf8')
  input.on('data', (d: string) => {
    for (const text of split(d))
      chain = chain.then(async (over) => {
        if (over) return true
        let reply: string
        try {
          reply = await qmpRequest(vm, session, text)
        } catch (e) {
          return after(e)
        }
        write(reply + '\r\n')
        return after()
      })
  })
  input.on('end', () =>
    void chain.then(() => {
      sinks.delete(sink)
      done()
    }),
  )
}

/** Cut a stream of JSON texts into whole values (QEMU's JSON streamer): by brackets outside strings. */
function jsonSplitter(): (chunk: string) => string[] {
  let cur = ''
  let depth = 0
  let inStr = false
  let esc = false
  return (chunk) => {
    const done: string[] = []
    for (const c of chunk) {
      if (depth === 0 && !inStr && /\s/.test(c)) {
        if (cur.trim() !== '' && c === '\n') done.push(cur), (cur = '')
        continue
      }
      cur += c
      if (inStr) {
        if (esc) esc = false
        else if (c === '\\') esc = true
        else if (c === '"') inStr = false
        continue
      }
      if (c === '"') inStr = true
      else if (c === '{' || c === '[') depth++
      else if ((c === '}' || c === ']') && depth > 0 && --depth === 0) done.push(cur), (cur = '')
    }
    return done
  }
}

/** -daemonize: a detached child runs the guest; this process waits until it runs (or failed) and says so. */
function launchDaemon(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    // The drop-in by its own file: this process may be \`aplab qemu-system-s390x\`.
    const child = spawn(process.execPath, [nodePath.join(packageRoot(), 'bin', 'qemu-system-s390x.js'), ...argv], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      env: {...process.env, [DAEMON_ENV]: '1'},
    })
    let msg = ''
    const pipe = child.stdio[DAEMON_FD] as net.Socket
    pipe.setEncoding('utf8')
    pipe.on('data', (d: string) => (msg += d))
    pipe.on('error', () => undefined)
    pipe.on('close', () => {
      let r: {stderr: string; code: number} = {stderr: '', code: 1}
      try {
        r = JSON.parse(msg) as typeof r
      } catch {
        // the daemon died before it said anything: QEMU's parent exits 1
      }
      process.stderr.write(r.stderr)
      child.unref()
      resolve(r.code)
    })
  })
}
