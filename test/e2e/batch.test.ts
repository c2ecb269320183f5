// aplab batch: many command lines in one process print what the separate
// calls print, with their statuses; the first failure stops the batch and
// its own changes are undone; --atomic writes nothing on failure,
// --keep-going runs on; shell-like splitting, comments, refused operators.
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {parse} from 'shell-quote'
import {afterAll, describe, expect, it} from 'vitest'

import {splitLine} from '../../src/cli/batch.js'

const ROOT = join(import.meta.dirname, '..', '..')
const made: string[] = []
afterAll(() => made.forEach((d) => rmSync(d, {recursive: true, force: true})))

function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-batch-'))
  made.push(dir)
  const state = join(dir, 'state.yaml')
  const env = {APLAB_STATE: state, SYSFS_ROOT: '', APLAB_HOST: '', APLAB_UID: '', U1: '11111111-1111-4111-8111-111111111111'}
  const run = (name: string, args: string[], input?: string) =>
    execa(join(ROOT, 'bin', `${name}.js`), args, {reject: false, env, stripFinalNewline: false, ...(input !== undefined ? {input} : {})})
  const batch = (script: string, ...flags: string[]) => {
    const file = join(dir, 'script')
    writeFileSync(file, script)
    return run('aplab', ['batch', ...flags, file])
  }
  return {dir, state, run, batch}
}

const U1 = '11111111-1111-4111-8111-111111111111'
const U2 = '22222222-2222-4222-8222-222222222222'

describe.concurrent('aplab batch', () => {
  it('prints what the separate calls print, line after line', async () => {
    const lines = [
      ['aplab', 'init'],
      ['aplab', 'modprobe', 'vfio_ap'],
      ['aplab', 'mdev', 'create', '-u', U1],
      ['aplab', 'sysfs', 'write', '/sys/bus/ap/apmask', '-5,-6'],
      ['aplab', 'mdev', 'assign', U1, '--adapter', '5', '--adapter', '6', '--domain', '4'],
      ['mdevctl', 'define', '-u', U1],
      ['mdevctl', 'list', '-d'],
      ['lszcrypt', '-V', '5'],
      ['aplab', 'sysfs', 'cat', `/sys/devices/vfio_ap/matrix/${U1}/matrix`],
      ['aplab', 'mdev', 'list'],
      ['lszdev', '-t', 'ap'],
    ]
    const sep = sandbox()
    let out = ''
    let err = ''
    for (const [cmd, ...args] of lines) {
      const r = await sep.run(cmd, args)
      expect(r.exitCode).toBe(0)
      out += r.stdout
      err += r.stderr
    }
    const b = sandbox()
    const r = await b.batch(lines.map((l) => l.join(' ')).join('\n') + '\n')
    expect({out: r.stdout.replaceAll(b.state, sep.state), err: r.stderr.replaceAll(b.state, sep.state), code: r.exitCode}).toEqual({out, err, code: 0})
    // The state written once at the end holds what the lines did.
    expect((await b.run('aplab', ['mdev', 'list'])).stdout).toBe((await sep.run('aplab', ['mdev', 'list'])).stdout)
  })

  it('splits lines as the shell does: quotes, comments, variables; refuses operators and unknown commands', async () => {
    const b = sandbox()
    const r = await b.batch(
      [
        '# provisioning',
        '',
        'aplab sysfs cat "/sys/bus/ap/apmask"   # the adapters the host keeps',
        "aplab 'mdev' create --uuid $U1",
        'lszcrypt -V | grep CEX8',
        'rm -rf /',
      ].join('\n'),
      '--keep-going',
    )
    const apmask = (await b.run('aplab', ['sysfs', 'cat', '/sys/bus/ap/apmask'])).stdout
    expect(r.stdout).toBe(apmask)
    expect(r.stderr).toBe(
      (await b.run('aplab', ['mdev', 'create', '--uuid', U1])).stderr +
        "aplab batch: line 5: the shell operator '|' is not supported in a batch (one command per line)\n" +
        'aplab batch: rm: command not found\n',
    )
    expect(r.exitCode).toBe(1)
  })

  it('stops at the first failing line with its status, the state as after the last good line', async () => {
    const b = sandbox()
    await b.run('aplab', ['init'])
    await b.run('aplab', ['modprobe', 'vfio_ap'])
    const script = `aplab mdev create -u ${U1}\nmdevctl start -u ${U2}\naplab mdev create -u ${U2}\n`
    const alone = await b.run('mdevctl', ['start', '-u', U2])
    const r = await b.batch(script)
    expect(r.stdout).toBe(U1 + '\n')
    expect(r.stderr).toBe(alone.stderr)
    expect(r.exitCode).toBe(alone.exitCode)
    expect(r.exitCode).not.toBe(0)
    const list = (await b.run('aplab', ['mdev', 'list'])).stdout
    expect(list).toContain(U1)
    expect(list).not.toContain(U2)
  })

  it('with --atomic writes nothing when a line fails, and with --keep-going runs the rest', async () => {
    const b = sandbox()
    await b.run('aplab', ['init'])
    await b.run('aplab', ['modprobe', 'vfio_ap'])
    const before = readFileSync(b.state, 'utf8')
    const script = `aplab mdev create -u ${U1}\naplab mdev remove ${U2}\naplab mdev create -u ${U2}\n`
    const atomic = await b.batch(script, '--atomic')
    expect(atomic.exitCode).not.toBe(0)
    expect(readFileSync(b.state, 'utf8')).toBe(before)
    const going = await b.batch(script, '--keep-going')
    expect(going.exitCode).toBe(atomic.exitCode)
    expect(going.stdout).toBe(`${U1}\n${U2}\n`)
    const list = (await b.run('aplab', ['mdev', 'list'])).stdout
    expect(list).toContain(U1)
    expect(list).toContain(U2)
  })

  it('undoes all a failed line did, the kernel log it wrote included, and keeps the lines before it', async () => {
    const b = sandbox()
    for (const line of [['init'], ['modprobe', 'vfio_ap'], ['mdev', 'create', '-u', U1], ['mdev', 'create', '-u', U2], ['sysfs', 'write', '/sys/bus/ap/apmask', '-5,-6'], ['mdev', 'assign', U1, '--adapter', '5', '--domain', '4']])
      expect((await b.run('aplab', line)).exitCode).toBe(0)
    const log = (await b.run('aplab', ['dmesg'])).stdout
    // Refused: 05.0004 is U1's. A separate call keeps what vfio_ap logged on the way (mutateKeepingLog).
    const refused = `aplab mdev assign ${U2} --adapter 5 --domain 4`
    const r = await b.batch(`aplab mdev assign ${U2} --adapter 6\n${refused}\naplab mdev list\n`)
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/^aplab: cannot assign domain 4 to mdev 2{8}-.*EADDRINUSE/)
    expect(r.stdout).toBe('')
    expect((await b.run('aplab', ['dmesg'])).stdout).toBe(log)
    expect((await b.run('aplab', ['mdev', 'show', U2])).stdout).toMatch(/^matrix: +06\.$/m)
    const alone = await b.run('aplab', refused.split(' ').slice(1))
    expect(alone.stderr).toBe(r.stderr)
    expect((await b.run('aplab', ['dmesg'])).stdout).toMatch(/Userspace may not assign queue 05\.0004/)
  })

  it('keeps a whole new state a good line made (init --force) when a later line fails; init over a state is refused as alone', async () => {
    const b = sandbox()
    await b.run('aplab', ['init'])
    const script = [`aplab modprobe vfio_ap`, `aplab mdev create -u ${U1}`, 'aplab init --force', 'aplab modprobe vfio_ap', `aplab mdev create -u ${U2}`, `aplab mdev remove ${U1}`].join('\n')
    const r = await b.batch(script + '\n', '--no-progress')
    expect(r.exitCode).toBe(1)
    const list = (await b.run('aplab', ['mdev', 'list'])).stdout
    expect(list).toContain(U2)
    expect(list).not.toContain(U1)
    // A refused init changes nothing: the state as the line before left it.
    const again = await b.batch(`aplab mdev create -u ${U1}\naplab init\n`)
    expect(again.exitCode).toBe(1)
    expect(again.stderr).toMatch(/exists already/)
    expect((await b.run('aplab', ['mdev', 'list'])).stdout).toContain(U1)
  })

  it('reads standard input for -, and a missing script is one line and status 1', async () => {
    const b = sandbox()
    const r = await b.run('aplab', ['batch', '-'], 'aplab init\n')
    expect(r.exitCode).toBe(0)
    expect(existsSync(b.state)).toBe(true)
    const m = await b.run('aplab', ['batch', join(b.dir, 'nope')])
    expect({err: m.stderr, code: m.exitCode}).toEqual({err: `aplab: cannot read ${join(b.dir, 'nope')}: No such file or directory\n`, code: 1})
  })
})

describe('splitLine', () => {
  it('splits a line of plain words at its blanks as shell-quote does', async () => {
    const chars = 'aZ09_./:=,@+%-  \t'
    let seed = 7
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31)
    for (let n = 0; n < 2000; n++) {
      const line = Array.from({length: Math.floor(next() * 30)}, () => chars[Math.floor(next() * chars.length)]).join('')
      expect(await splitLine(line, {}), JSON.stringify(line)).toEqual(parse(line, {}))
    }
  })
})
