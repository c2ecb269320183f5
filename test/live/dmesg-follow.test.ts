// dmesg -w and -W as processes: the records other commands log while the
// follower runs appear line by line, in order, as a later dmesg prints them;
// signals end it as they end util-linux's dmesg (no handler), a closed pipe
// quietly (SIGPIPE's 141), a removed host or state with the error.

import {mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync} from 'node:fs'
import {join} from 'node:path'

import {execa, type ResultPromise} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'

import {type Sandbox, bin, cleanSandboxes, sandbox} from './helpers.js'

const followers: ResultPromise[] = []
afterAll(() => {
  // A test that failed half way leaves its followers waiting.
  for (const p of followers) p.kill('SIGKILL')
  cleanSandboxes()
})

const REG = 'vfio_ap matrix: MDEV: Registered'
const UNREG = 'vfio_ap matrix: MDEV: Unregistering'

interface Follower {
  proc: ResultPromise
  /** What it has written so far. */
  out: () => string
  /** Until it has written `text` in all (or `ms` pass: the test fails on what it has). */
  until: (text: string, ms?: number) => Promise<string>
}

/**
 * Start `dmesg ARGS` and wait until it watches the state (its inotify
 * descriptor is open): records logged before that could be missed (-W) or
 * taken for the ones it started with. No short deadline: on a loaded machine
 * a node process may take seconds to start; the test's own timeout bounds it.
 */
async function follow(s: Sandbox, args: string[], extra: Record<string, string> = {}, name = 'dmesg'): Promise<Follower> {
  const proc = execa(bin(name), args, {reject: false, env: {...s.env, TZ: 'UTC', ...extra}, stripFinalNewline: false, buffer: true})
  followers.push(proc)
  let out = ''
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  let ended = false
  void proc.then(() => (ended = true))
  const pid = proc.pid!
  const watching = await poll(() => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify')
    } catch {
      return false
    }
  }, WAIT, () => ended)
  if (!watching) throw new Error(`${name} ${args.join(' ')} ${ended ? `ended before it watched the state: ${String((await proc).stderr)}` : `did not watch the state within ${WAIT} ms`}`)
  // Success returns at once; only a wrong output waits the whole time.
  return {proc, out: () => out, until: async (text, ms = WAIT) => (await poll(() => out === text, ms), out)}
}

/** How long a follower may take to get somewhere: within the test's 60 s. */
const WAIT = 40_000

/** Until `done` (true), or `ms` pass or `stop` says it never will (false). */
async function poll(done: () => boolean, ms: number, stop: () => boolean = () => false): Promise<boolean> {
  const end = Date.now() + ms
  for (;;) {
    if (done()) return true
    if (stop() || Date.now() >= end) return false
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function lab(): Promise<Sandbox> {
  const s = sandbox()
  await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
  return s
}

const aplab = async (s: Sandbox, ...args: string[]) => expect((await s.run('aplab', args)).exitCode).toBe(0)

describe('dmesg -w', () => {
  it('prints the records there are, then each one other commands log, exactly as a later dmesg prints them (-x, -T)', async () => {
    const s = await lab()
    const plain = await follow(s, ['-w'])
    const decoded = await follow(s, ['--follow', '-x', '-T'])
    const first = (await s.run('dmesg', [])).stdout
    expect(first).toMatch(/^\[ +\d+\.\d{6}\] vfio_ap matrix: MDEV: Registered\n$/)
    expect(await plain.until(first)).toBe(first)
    await aplab(s, 'modprobe', '-r', 'vfio_ap')
    const two = (await s.run('dmesg', [])).stdout
    expect(two.split('\n').map((l) => l.replace(/^\[ +\d+\.\d+\] /, ''))).toEqual([REG, UNREG, ''])
    // Line by line: the new record is there before the next command runs.
    expect(await plain.until(two)).toBe(two)
    await aplab(s, 'modprobe', 'vfio_ap')
    await aplab(s, 'modprobe', '-r', 'vfio_ap')
    const four = (await s.run('dmesg', [])).stdout
    expect(four.split('\n')).toHaveLength(5)
    expect(await plain.until(four)).toBe(four)
    const x = (await s.run('dmesg', ['-x', '-T'], {TZ: 'UTC'})).stdout
    expect(x).toMatch(/^kern {2}:info {2}: \[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] vfio_ap matrix: MDEV: Registered\n/)
    expect(await decoded.until(x)).toBe(x)
    plain.proc.kill('SIGINT')
    decoded.proc.kill('SIGTERM')
    // util-linux's dmesg has no handler: the signal ends it (the shell's 130 and 143), nothing said.
    expect(await plain.proc).toMatchObject({signal: 'SIGINT', stderr: ''})
    expect(await decoded.proc).toMatchObject({signal: 'SIGTERM', stderr: ''})
  })

  it('-W prints only what comes after it starts; -J flushes each whole line, the indent before "},{" waits', async () => {
    const s = await lab()
    const fresh = await follow(s, ['-W', '-t'])
    const json = await follow(s, ['-J', '-w'])
    const rec = (t: string, msg: string) => `         "pri": 6,\n         "time": ${t},\n         "msg": "${msg}"\n`
    const times = async () => (JSON.parse((await s.run('dmesg', ['-J'])).stdout) as {dmesg: Array<{time: number}>}).dmesg.map((r) => r.time.toFixed(6).padStart(12))
    const [t0] = await times()
    expect(await json.until(`{\n   "dmesg": [\n      {\n${rec(t0, REG)}`)).toBe(`{\n   "dmesg": [\n      {\n${rec(t0, REG)}`)
    await aplab(s, 'modprobe', '-r', 'vfio_ap')
    expect(await fresh.until(`${UNREG}\n`)).toBe(`${UNREG}\n`)
    const [, t1] = await times()
    const both = `{\n   "dmesg": [\n      {\n${rec(t0, REG)}      },{\n${rec(t1, UNREG)}`
    expect(await json.until(both)).toBe(both)
    fresh.proc.kill('SIGINT')
    json.proc.kill('SIGINT')
    expect(await fresh.proc).toMatchObject({signal: 'SIGINT', stdout: `${UNREG}\n`, stderr: ''})
    // The JSON is never closed: a signal ends dmesg -J -w.
    expect(await json.proc).toMatchObject({signal: 'SIGINT', stdout: both, stderr: ''})
  })

  it('after a clear by another, prints what comes next; after a reboot, the new boot; a removed host ends it', async () => {
    const s = await lab()
    await aplab(s, 'host', 'add', 'lpar2', '--preset', 'vfio-ap-doc')
    const f = await follow(s, ['-w', '-t'], {APLAB_HOST: 'lpar2'})
    expect(await f.until(`${REG}\n`)).toBe(`${REG}\n`)
    // Another host's records are not this one's.
    await aplab(s, 'modprobe', '-r', 'vfio_ap')
    await aplab(s, 'modprobe', 'vfio_ap')
    expect((await s.run('dmesg', ['-C'], {APLAB_HOST: 'lpar2'})).exitCode).toBe(0)
    await aplab(s, '--host', 'lpar2', 'modprobe', '-r', 'vfio_ap')
    expect(await f.until(`${REG}\n${UNREG}\n`)).toBe(`${REG}\n${UNREG}\n`)
    await aplab(s, '--host', 'lpar2', 'host', 'reboot')
    expect(await f.until(`${REG}\n${UNREG}\n${REG}\n`)).toBe(`${REG}\n${UNREG}\n${REG}\n`)
    await aplab(s, 'host', 'remove', 'lpar2')
    expect(await f.proc).toMatchObject({exitCode: 1, stdout: `${REG}\n${UNREG}\n${REG}\n`, stderr: "dmesg: no host named 'lpar2' (hosts: host0)\n"})
  })

  it('the state file removed ends it; so does a reader that went away, quietly, at the next record (SIGPIPE)', async () => {
    const s = await lab()
    // `aplab dmesg -w` is the same follower.
    const g = await follow(s, ['dmesg', '-w', '-t'], {}, 'aplab')
    expect(await g.until(`${REG}\n`)).toBe(`${REG}\n`)
    const piped = s.sh(`{ ${bin('dmesg')} -w -t; echo "dmesg: $?" >&2; } | head -n 1 > first`)
    // The follower must have printed the record there is before the next comes (else it
    // prints both at once, head takes the first, and nothing more is ever written to fail).
    const printed = await poll(() => {
      try {
        return readFileSync(join(s.dir, 'first'), 'utf8') !== ''
      } catch {
        return false
      }
    }, WAIT)
    expect(printed).toBe(true)
    await aplab(s, 'modprobe', '-r', 'vfio_ap')
    expect(await piped).toEqual({stdout: '', stderr: 'dmesg: 141\n', exitCode: 0})
    expect(readFileSync(join(s.dir, 'first'), 'utf8')).toBe(`${REG}\n`)
    expect(await g.until(`${REG}\n${UNREG}\n`)).toBe(`${REG}\n${UNREG}\n`)
    rmSync(s.state)
    expect(await g.proc).toMatchObject({exitCode: 1, stderr: `dmesg: ${s.state}: the state file was removed while dmesg followed it: its hosts are gone\n`})
  })

  it('a state that is no regular file any more ends it as it ends every command', async () => {
    const s = await lab()
    const f = await follow(s, ['-w', '-t'])
    expect(await f.until(`${REG}\n`)).toBe(`${REG}\n`)
    // In one step (a link to a directory renamed over it), so that it is never seen removed.
    mkdirSync(join(s.dir, 'd'))
    symlinkSync(join(s.dir, 'd'), join(s.dir, 'link'))
    renameSync(join(s.dir, 'link'), s.state)
    expect(await f.proc).toMatchObject({exitCode: 1, stderr: `dmesg: ${s.state}: the state must be a regular file, not a directory (${join(s.dir, 'd')})\n`})
  })

  it('is refused in a guest and in a batch, where no record can come', async () => {
    const s = await lab()
    const u = (await s.run('aplab', ['mdev', 'create'])).stdout.trim()
    await aplab(s, 'guest', 'start', 'g1', '--', '-cpu', 'host,ap=on', '-device', `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${u}`)
    expect(await s.run('aplab', ['guest', 'exec', 'g1', '--', 'dmesg', '-w'])).toEqual({
      stdout: '',
      stderr: "dmesg: aplab guest exec cannot follow a guest's kernel log (-w, -W): it prints a command's output when the command ends\n",
      exitCode: 1,
    })
    const before = s.bytes()
    expect(await s.sh(`printf 'dmesg -t\\naplab dmesg -W\\n' | ${bin('aplab')} batch -`)).toEqual({
      stdout: `${REG}\n`,
      stderr: 'dmesg: cannot follow the kernel log here: the state is held in memory (aplab batch), no other process can log\n',
      exitCode: 1,
    })
    expect(s.bytes()).toEqual(before)
  })
})
