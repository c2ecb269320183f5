// The state's lock across processes: a live holder, stopped or busy, is
// waited for; a dead one's lock is taken at once; concurrent writers lose
// nothing; a command whose lock was taken writes nothing.
import {type ChildProcessWithoutNullStreams, execFileSync, spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {randomUUID} from 'node:crypto'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {StateError} from '../../src/core/errors.js'
import {acquire, judge, procStat, self} from '../../src/state/lock.js'
import {load, mutate} from '../../src/state/store.js'

const ROOT = join(import.meta.dirname, '..', '..')
const APLAB = join(ROOT, 'bin', 'aplab.js')
const made: string[] = []
function sandbox(): {dir: string; state: string} {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-lock-'))
  made.push(dir)
  return {dir, state: join(dir, 'state.yaml')}
}
afterAll(() => {
  for (const d of made) rmSync(d, {recursive: true, force: true})
})

const env = (state: string) => ({...process.env, APLAB_STATE: state, APLAB_HOST: '', APLAB_UID: '', SYSFS_ROOT: ''})

/** A process that takes the state's lock, bumps the scan counter, says `locked` and waits for a line on stdin. */
function holder(state: string): {p: ChildProcessWithoutNullStreams; locked: Promise<void>; exit: Promise<number | null>} {
  const script = `
    const {mutate} = await import(${JSON.stringify(join(ROOT, 'dist/state/store.js'))})
    await mutate(${JSON.stringify(state)}, async (w) => {
      w.hosts[0].runtime.scans += 1
      process.stdout.write('locked\\n')
      await new Promise((r) => process.stdin.once('data', r))
    })
    process.exit(0)`
  const p = spawn(process.execPath, ['--input-type=module', '-e', script], {env: env(state)})
  const locked = new Promise<void>((resolve, reject) => {
    let out = ''
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString()
      if (out.includes('locked\n')) resolve()
    })
    p.on('exit', () => reject(new Error(`holder exited before locking: ${out}`)))
  })
  const exit = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)))
  return {p, locked, exit}
}

/** `aplab sysfs write /sys/bus/ap/scans 1`: one more scan, under the lock. */
function scan(state: string) {
  const p = spawn(process.execPath, [APLAB, 'sysfs', 'write', '/sys/bus/ap/scans', '1'], {env: env(state)})
  let stderr = ''
  const lines: Array<() => void> = []
  p.stderr.on('data', (b: Buffer) => {
    stderr += b.toString()
    for (const f of lines) f()
  })
  const exit = new Promise<{code: number | null; stderr: string}>((resolve) => p.on('close', (code) => resolve({code, stderr})))
  /** Resolves with true when stderr has `text`, false when the process ended first. */
  const said = (text: string) =>
    Promise.race([
      new Promise<boolean>((resolve) => {
        const f = () => stderr.includes(text) && resolve(true)
        lines.push(f)
        f()
      }),
      exit.then(() => stderr.includes(text)),
    ])
  return {p, exit, said}
}

function init(state: string, ...args: string[]): void {
  execFileSync(process.execPath, [APLAB, 'init', ...args], {env: env(state)})
}

describe('the lock between processes', () => {
  it('a stopped holder is waited for, however old its lock looks, and nothing is lost', async () => {
    const {state} = sandbox()
    init(state)
    const h = holder(state)
    await h.locked
    process.kill(h.p.pid!, 'SIGSTOP')
    // Older than any staleness limit: a lock judged by its time would be taken now.
    const lockDir = `${state}.lock`
    for (const n of readdirSync(lockDir)) utimesSync(join(lockDir, n), 0, 0)
    utimesSync(lockDir, 0, 0)
    const b = scan(state)
    expect(await b.said(`aplab: waiting for the lock ${lockDir}, held by process ${h.p.pid}\n`)).toBe(true)
    process.kill(h.p.pid!, 'SIGCONT')
    h.p.stdin.write('go\n')
    expect(await h.exit).toBe(0)
    expect(await b.exit).toEqual({code: 0, stderr: `aplab: waiting for the lock ${lockDir}, held by process ${h.p.pid}\n`})
    expect((await load(state)).hosts[0].runtime.scans).toBe(3)
  })

  it("a killed holder's lock is taken over at once", {timeout: 8000}, async () => {
    const {state} = sandbox()
    init(state)
    const h = holder(state)
    await h.locked
    h.p.kill('SIGKILL')
    await h.exit
    // Its record is left, naming a process that is gone.
    expect(readdirSync(`${state}.lock`)).toEqual([expect.stringMatching(/^owner\./)])
    const b = scan(state)
    expect(await b.exit).toEqual({code: 0, stderr: ''})
    expect((await load(state)).hosts[0].runtime.scans).toBe(2)
    expect(readdirSync(join(state, '..')).sort()).toEqual(['.state.yaml.cache', 'state.yaml'])
  })

  it('24 processes creating mdevs at once lose none', async () => {
    const {state} = sandbox()
    init(state, '--preset', 'vfio-ap-doc')
    const uuids = Array.from({length: 24}, () => randomUUID()).sort()
    // echo UUID > .../vfio_ap-passthrough/create, each in its own process.
    const create = '/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create'
    const runs = uuids.map(
      (u) =>
        new Promise<number | null>((resolve) => {
          const p = spawn(process.execPath, [APLAB, 'sysfs', 'write', create, u], {env: env(state), stdio: 'ignore'})
          p.on('close', resolve)
        }),
    )
    expect(await Promise.all(runs)).toEqual(Array(24).fill(0))
    expect((await load(state)).hosts[0].runtime.mdevs.map((m) => m.uuid).sort()).toEqual(uuids)
    expect(readdirSync(join(state, '..')).sort()).toEqual(['.state.yaml.cache', 'state.yaml'])
  })
})

describe('locks without a live owner', () => {
  it('a lock left without an owner record (an older aplab, by hand) is taken once it is old', async () => {
    const {state} = sandbox()
    init(state)
    mkdirSync(`${state}.lock`)
    utimesSync(`${state}.lock`, 0, 0)
    await mutate(state, (w) => void w.hosts[0].runtime.scans++)
    writeFileSync(`${state}.lock`, 'not a lock\n')
    utimesSync(`${state}.lock`, 0, 0)
    await mutate(state, (w) => void w.hosts[0].runtime.scans++)
    expect((await load(state)).hosts[0].runtime.scans).toBe(3)
  })

  it('a time in the future does not make a lock eternal: it is stale after the grace period', async () => {
    const {state} = sandbox()
    mkdirSync(`${state}.lock`)
    const future = Date.now() / 1000 + 10 * 365 * 86400
    utimesSync(`${state}.lock`, future, future)
    const held = await acquire(state, {graceMs: 50})
    expect(held.stillHeld()).toBe(true)
    held.release()
    expect(readdirSync(join(state, '..'))).toEqual([])
  })

  it("what killed commands left beside the lock is swept by the next holder; a live command's staged lock stays", async () => {
    const {dir, state} = sandbox()
    const i = self()
    const stage = (name: string, owner: object | null, old = false) => {
      mkdirSync(join(dir, name))
      if (owner) writeFileSync(join(dir, name, 'owner.x'), JSON.stringify(owner) + '\n')
      if (old) utimesSync(join(dir, name), 0, 0)
    }
    stage('state.yaml.lock.dead', {...i, pid: 0x3fffffff})
    stage('state.yaml.lock.alive', i)
    stage('state.yaml.lock.empty-old', null, true)
    stage('state.yaml.lock.empty-new', null)
    writeFileSync(join(dir, 'state.yaml.lock.y.broken'), '{}\n')
    writeFileSync(join(dir, 'other.lock.z.broken'), '{}\n')
    await mutate(state, (w) => void w.hosts[0].runtime.scans++)
    expect(readdirSync(dir).sort()).toEqual(['.state.yaml.cache', 'other.lock.z.broken', 'state.yaml', 'state.yaml.lock.alive', 'state.yaml.lock.empty-new'])
  })

  it('a live holder is proven alive by pid and start time; anything else is dead', () => {
    const i = self()
    expect(i.pid).toBe(process.pid)
    expect(i.start).toBe(procStat(process.pid)?.start)
    expect(i.host).toBe(hostname())
    expect(judge(i)).toBe('alive')
    expect(judge({...i, start: String(Number(i.start) + 1)})).toBe('dead') // the pid now belongs to another process
    expect(judge({...i, boot: '00000000-0000-0000-0000-000000000000'})).toBe('dead') // an earlier boot
    expect(judge({...i, pid: 0x3fffffff})).toBe('dead') // no such process
    expect(judge({...i, host: `not-${i.host}`, pid: 0x3fffffff})).toBe('alive') // another machine: cannot be judged
  })
})

describe('a command whose lock was taken', () => {
  it('writes nothing and says so', async () => {
    const {state} = sandbox()
    init(state)
    const before = readFileSync(state)
    const err = await mutate(state, (w) => {
      w.hosts[0].runtime.scans++
      // Another command breaks this one's lock (it found the record unreadable, say).
      for (const n of readdirSync(`${state}.lock`)) rmSync(join(`${state}.lock`, n))
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StateError)
    expect((err as StateError).message).toBe(`${state}: the lock ${state}.lock was taken from this command; nothing was written`)
    expect(readFileSync(state).equals(before)).toBe(true)
  })
})
