// The state file as a file: odd paths refused with one line and nothing
// created, bounded reads, temporaries no planted link can redirect, modes and
// owners kept, and the cache's size.
import {createHash} from 'node:crypto'
import {spawnSync} from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  linkSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {afterAll, describe, expect, it, onTestFinished} from 'vitest'

import {load, MAX_STATE_BYTES, mutate, newWorld, replace} from '../../src/state/store.js'

const ROOT = join(import.meta.dirname, '..', '..')
const made: string[] = []
function sandbox(): {dir: string; state: string} {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-files-'))
  made.push(dir)
  return {dir, state: join(dir, 'state.yaml')}
}
afterAll(() => {
  for (const d of made) rmSync(d, {recursive: true, force: true})
})

function run(bin: string, args: string[], state?: string, opts: {uid?: number; gid?: number} = {}) {
  const env = {...process.env, APLAB_STATE: state ?? '', APLAB_HOST: '', APLAB_UID: '', SYSFS_ROOT: ''}
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', `${bin}.js`), ...args], {env, encoding: 'utf8', timeout: 20000, ...opts})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

const bump = (w: ReturnType<typeof newWorld>) => void w.hosts[0].runtime.scans++
const isRoot = process.getuid?.() === 0

describe('odd state paths are refused with one line, and nothing is created beside them', () => {
  it('character devices, a directory, a FIFO, a link into /proc', () => {
    const {dir} = sandbox()
    const fifo = join(dir, 'fifo')
    spawnSync('mkfifo', [fifo])
    const proc = join(dir, 'proc.yaml')
    symlinkSync('/proc/1/status', proc)
    const cases: Array<[string, string]> = [
      ['/dev/full', '/dev/full: the state must be a regular file, not a character device'],
      ['/dev/zero', '/dev/zero: the state must be a regular file, not a character device'],
      [dir, `${dir}: the state must be a regular file, not a directory`],
      [fifo, `${fifo}: the state must be a regular file, not a FIFO`],
      [proc, `${proc}: a state file cannot live under /proc or /sys (it is /proc/1/status)`],
    ]
    for (const [state, msg] of cases) {
      expect(run('aplab', ['--state', state, 'sysfs', 'write', '/sys/bus/ap/scans', '1'])).toEqual({code: 1, stdout: '', stderr: `aplab: ${msg}\n`})
      expect(run('lszcrypt', [], state)).toEqual({code: 1, stdout: '', stderr: `lszcrypt: ${msg}\n`})
      expect(run('chzcrypt', ['-e', '0'], state)).toEqual({code: 1, stdout: '', stderr: `chzcrypt: ${msg}\n`})
      expect(existsSync(`${state}.lock`), state).toBe(false)
    }
    expect(readdirSync(dir).sort()).toEqual(['fifo', 'proc.yaml'])
  })

  it('a link to nothing, and a path through a file', async () => {
    const {dir} = sandbox()
    symlinkSync(join(dir, 'gone.yaml'), join(dir, 'link.yaml'))
    writeFileSync(join(dir, 'file'), '')
    await expect(mutate(join(dir, 'link.yaml'), bump)).rejects.toThrow(
      `${dir}/link.yaml: is a symbolic link to a missing file (${dir}/gone.yaml); the state must be a regular file`,
    )
    await expect(load(join(dir, 'file', 'state.yaml'))).rejects.toThrow(`${dir}/file/state.yaml: cannot read the state: a part of the path is not a directory`)
    await expect(mutate(join(dir, 'file', 'sub', 'state.yaml'), bump)).rejects.toThrow(`${dir}/file/sub/state.yaml: cannot read the state: a part of the path is not a directory`)
    expect(readdirSync(dir).sort()).toEqual(['file', 'link.yaml'])
  })

  it('a state with a second hard link is refused: a write would part the two names', async () => {
    const {dir, state} = sandbox()
    await mutate(state, bump)
    linkSync(state, join(dir, 'other.yaml'))
    const text = readFileSync(state, 'utf8')
    const msg = `${state}: the state has 2 hard links; aplab replaces it on every write, so they would part: use a symbolic link`
    await expect(load(state)).rejects.toThrow(msg)
    await expect(mutate(state, bump)).rejects.toThrow(msg)
    expect(readFileSync(join(dir, 'other.yaml'), 'utf8')).toBe(text)
  })

  it(`a state larger than ${MAX_STATE_BYTES} bytes is refused before it is read`, () => {
    const {state} = sandbox()
    writeFileSync(state, '')
    truncateSync(state, MAX_STATE_BYTES + 1)
    const msg = `${state}: the state is ${MAX_STATE_BYTES + 1} bytes, more than aplab reads (${MAX_STATE_BYTES} bytes)`
    expect(run('lszcrypt', [], state)).toEqual({code: 1, stdout: '', stderr: `lszcrypt: ${msg}\n`})
    expect(run('aplab', ['sysfs', 'write', '/sys/bus/ap/scans', '1'], state)).toEqual({code: 1, stdout: '', stderr: `aplab: ${msg}\n`})
    // aplab init --force replaces whatever regular file is there.
    expect(run('aplab', ['init', '--force'], state).code).toBe(0)
    expect(statSync(state).size).toBeLessThan(10000)
  })
})

describe('what a command creates', () => {
  it('a refused command creates no directory; one that writes creates them', () => {
    const {dir} = sandbox()
    const state = join(dir, 'a', 'b', 'state.yaml')
    const r = run('aplab', ['sysfs', 'write', '/sys/bus/ap/config_time', '200'], state)
    expect(r).toEqual({code: 1, stdout: '', stderr: 'aplab: echo: write error: Invalid argument\n'})
    expect(run('aplab', ['sysfs', 'write', '/sys/bus/ap/scans', '1'], join(dir, 'c', 'state.yaml')).code).toBe(0)
    expect(readdirSync(dir)).toEqual(['c'])
    expect(readdirSync(join(dir, 'c')).sort()).toEqual(['.state.yaml.cache', 'state.yaml'])
  })

  it.runIf(isRoot)('an unwritable directory is named', () => {
    const {dir} = sandbox()
    // nobody must reach the directory: let it through the test's own temporary directories.
    const opened: Array<[string, number]> = []
    for (let d = dir; d !== dirname(d); d = dirname(d)) {
      const mode = statSync(d).mode & 0o7777
      if ((mode & 0o001) === 0) {
        opened.push([d, mode])
        chmodSync(d, mode | 0o001)
      }
    }
    onTestFinished(() => {
      for (const [d, mode] of opened) chmodSync(d, mode)
    })
    const ro = join(dir, 'ro')
    mkdirSync(ro, {mode: 0o555})
    const nobody = {uid: 65534, gid: 65534}
    expect(run('aplab', ['sysfs', 'write', '/sys/bus/ap/scans', '1'], join(ro, 'state.yaml'), nobody)).toEqual({
      code: 1,
      stdout: '',
      stderr: `aplab: ${ro}/state.yaml: cannot lock the state: permission denied on ${ro}\n`,
    })
    expect(run('aplab', ['sysfs', 'write', '/sys/bus/ap/scans', '1'], join(ro, 'x', 'state.yaml'), nobody)).toEqual({
      code: 1,
      stdout: '',
      stderr: `aplab: ${ro}/x/state.yaml: cannot create its directory: permission denied on ${ro}/x\n`,
    })
    expect(readdirSync(ro)).toEqual([])
  })
})

describe('temporaries never follow links', () => {
  it('links planted at every temporary name that can be predicted are left alone', async () => {
    const {dir, state} = sandbox()
    const victim = join(mkdtempSync(join(tmpdir(), 'aplab-victim-')), 'precious')
    made.push(join(victim, '..'))
    writeFileSync(victim, 'precious\n')
    const planted: string[] = []
    const plant = (p: string) => {
      symlinkSync(victim, p)
      planted.push(p)
    }
    // The cache's old temporary: .NAME.cache.PID.
    plant(join(dir, `.state.yaml.cache.${process.pid}`))
    // write-file-atomic's: NAME.N, N from the SHA-1 of its module path, pid, thread and call count.
    const wfa = join(ROOT, 'node_modules/write-file-atomic/lib/index.js')
    for (let thread = 0; thread < 4; thread++)
      for (let call = 1; call <= 30; call++) {
        const h = createHash('sha1').update(wfa).update(String(process.pid)).update(String(thread)).update(String(call)).digest().readUInt32BE(0)
        plant(`${state}.${h}`)
      }
    for (let i = 0; i < 5; i++) {
      await mutate(state, bump)
      writeFileSync(state, readFileSync(state, 'utf8').replace(/scans: \d+/, `scans: ${10 + i}`)) // a hand edit: the cache is written anew
      await load(state)
    }
    await replace(state, newWorld(), true)
    expect(readFileSync(victim, 'utf8')).toBe('precious\n')
    for (const p of planted) expect(lstatSync(p).isSymbolicLink()).toBe(true)
    expect(readdirSync(dir).filter((n) => !planted.includes(join(dir, n))).sort()).toEqual(['.state.yaml.cache', 'state.yaml'])
  })
})

describe('files beside the state that are links', () => {
  it('a link planted at the cache is neither read nor written through', async () => {
    const {dir, state} = sandbox()
    await mutate(state, bump)
    const cache = join(dir, '.state.yaml.cache')
    const victim = join(dir, 'victim.json')
    // A copy of the real cache that lies: read through the link, it would be believed.
    const lie = JSON.parse(readFileSync(cache, 'utf8'))
    lie.data.hosts[0].runtime.ap_domain = 9
    writeFileSync(victim, JSON.stringify(lie))
    const planted = readFileSync(victim, 'utf8')
    rmSync(cache)
    symlinkSync(victim, cache)
    expect((await load(state)).hosts[0].runtime.domain).toBe(4)
    expect(readFileSync(victim, 'utf8')).toBe(planted)
    expect(lstatSync(cache).isFile()).toBe(true) // the link itself was replaced
  })
})

describe('modes and owners', () => {
  it('a rewritten state keeps its mode, and its cache gets the same', async () => {
    const {dir, state} = sandbox()
    await mutate(state, bump)
    for (const mode of [0o600, 0o640, 0o604]) {
      chmodSync(state, mode)
      await mutate(state, bump)
      expect(statSync(state).mode & 0o7777).toBe(mode)
      expect(statSync(join(dir, '.state.yaml.cache')).mode & 0o7777).toBe(mode)
    }
  })

  it.runIf(isRoot)('a state owned by another user keeps its owner; a cache of another owner is not trusted', async () => {
    const {dir, state} = sandbox()
    await mutate(state, bump)
    chownSync(state, 65534, 65534)
    await mutate(state, bump)
    expect([statSync(state).uid, statSync(state).gid]).toEqual([65534, 65534])
    const cache = join(dir, '.state.yaml.cache')
    expect(statSync(cache).uid).toBe(65534)
    // A cache that says something else about the same text, from someone who does not own the state: ignored.
    const forged = JSON.parse(readFileSync(cache, 'utf8'))
    forged.data.hosts[0].runtime.ap_domain = 9
    writeFileSync(cache, JSON.stringify(forged))
    chownSync(cache, 0, 0)
    expect((await load(state)).hosts[0].runtime.domain).toBe(4)
  })
})

describe('the cache', () => {
  it('holds the data and where the text has what, not the text and the data', async () => {
    const {dir, state} = sandbox()
    await replace(state, newWorld('vfio-ap-doc'), false)
    const text = readFileSync(state, 'utf8')
    const cache = readFileSync(join(dir, '.state.yaml.cache'), 'utf8')
    expect(JSON.stringify(JSON.parse(cache).data).length).toBeLessThan(text.length)
    expect(cache.length).toBeLessThan(1.5 * text.length)
    expect(cache).not.toContain(text.slice(0, 40))
  })
})
