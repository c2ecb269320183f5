// End-to-end: what `aplab` says for a command line it cannot run, byte for byte.
import {mkdtempSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

const APLAB = join(import.meta.dirname, '..', '..', 'bin', 'aplab.js')

describe.concurrent('aplab: command lines it cannot run', () => {
  const state = join(mkdtempSync(join(tmpdir(), 'aplab-cli-')), 'sub', 'state.yaml')
  const run = (args: string[]) => execa(APLAB, args, {reject: false, env: {APLAB_STATE: state}, stripFinalNewline: false})

  it('an unknown command is named without its arguments, with the nearest command', async () => {
    const r = await run(['guest', 'strat', 'guest1'])
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([1, '', "aplab: command 'guest strat' not found\nDid you mean 'guest start'?\nTry 'aplab --help' for more information.\n"])
    const n = await run(['frobnicate', '--x'])
    expect([n.exitCode, n.stderr]).toEqual([1, "aplab: command 'frobnicate' not found\nTry 'aplab --help' for more information.\n"])
    // An empty or blank word (a script's unset variable) is quoted like any other.
    for (const w of ['', ' ']) expect((await run([w])).stderr).toBe(`aplab: command '${w}' not found\nTry 'aplab --help' for more information.\n`)
  })

  it("words after a command that takes no arguments are read as oclif reads them: part of the command's name", async () => {
    const r = await run(['host', 'list', 'extra'])
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([1, '', "aplab: command 'host list extra' not found\nTry 'aplab --help' for more information.\n"])
    const g = await run(['guest', 'list', 'a', 'b'])
    expect([g.exitCode, g.stderr]).toEqual([1, "aplab: command 'guest list a' not found\nTry 'aplab --help' for more information.\n"])
    // A command that takes arguments stops the name: the word is its argument.
    const m = await run(['mdev', 'show', 'nosuch', 'extra'])
    expect([m.exitCode, m.stderr]).toEqual([1, "aplab: Unexpected argument: extra\nTry 'aplab mdev show --help' for more information.\n"])
  })

  it('a global flag without its value says so', async () => {
    const r = await run(['--state'])
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([1, '', "aplab: Flag --state expects a value\nTry 'aplab --help' for more information.\n"])
    expect(existsSync(state)).toBe(false)
  })
})

describe.concurrent('an empty --state', () => {
  it('is refused wherever it is given; the default state is never used instead', async () => {
    const home = mkdtempSync(join(tmpdir(), 'aplab-home-'))
    const env = {HOME: home, XDG_STATE_HOME: '', APLAB_STATE: join(home, 'given.yaml')}
    for (const args of [['--state', '', 'sysfs', 'write', '/sys/bus/ap/config_time', '50'], ['--state=', 'modprobe', 'vfio_ap'], ['sysfs', 'write', '--state', '', '/sys/bus/ap/config_time', '50'], ['mdev', 'create', '--state', '']]) {
      const r = await execa(APLAB, args, {reject: false, env, stripFinalNewline: false})
      expect([args, r.exitCode, r.stdout, r.stderr]).toEqual([args, 1, '', 'aplab: --state needs a file name, not an empty string\n'])
    }
    expect(existsSync(join(home, '.local'))).toBe(false)
    expect(existsSync(join(home, 'given.yaml'))).toBe(false)
  })
})
