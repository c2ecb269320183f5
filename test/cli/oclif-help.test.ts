// aplab's help is oclif's Help class over the manifest (src/cli/oclif-help.ts),
// without oclif's Config. Its bytes must be those of oclif run whole: here
// oclif itself (the @oclif/core the package installs, not aplab's bundle of
// it) loads its Config and runs each line, and the built binary runs the same
// line, with the same environment: terminal width, colours, a user's theme.

import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {DROP_INS} from '../../src/cli/main.js'
import {helpConfig, helpHere, topicHere} from '../../src/cli/oclif-help.js'

const ROOT = join(import.meta.dirname, '..', '..')
const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
// The drop-ins (`aplab chzcrypt --help`) answer as the real tools do, not with oclif's help.
const ids = Object.keys(manifest.commands).filter((id) => !DROP_INS.includes(id))
const words = (id: string) => id.split(':')

const dir = mkdtempSync(join(tmpdir(), 'aplab-help-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** What oclif's run prints for each line: one process, a Config per line (its help edits the commands it shows). */
const REFERENCE = `
const {Config, run, flush} = require('@oclif/core')
const lines = JSON.parse(process.argv[1])
;(async () => {
  const out = []
  const write = process.stdout.write
  for (const argv of lines) {
    const chunks = []
    process.stdout.write = (c) => (chunks.push(String(c)), true)
    let exit = 0, message = ''
    try {
      await run(argv, await Config.load(${JSON.stringify(ROOT)}))
    } catch (e) {
      exit = e.oclif?.exit ?? 1
      message = e.message
    }
    process.stdout.write = write
    out.push({stdout: chunks.join(''), exit, message})
  }
  await flush()
  process.stdout.write(JSON.stringify(out))
})()
`

type Env = Record<string, string>
const baseEnv = (extra: Env): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {...process.env, APLAB_STATE: join(dir, 'state.yaml'), HOME: dir, XDG_CONFIG_HOME: '', XDG_DATA_HOME: '', APLAB_HOST: '', ...extra}
  for (const k of ['OCLIF_COLUMNS', 'FORCE_COLOR', 'NO_COLOR', 'DEBUG']) if (!(k in extra)) delete env[k]
  return env
}

/** aplab's own spelling: `help [COMMAND ...]` is `[COMMAND ...] --help` (src/cli/main.ts), which oclif answers. */
const unhelp = (argv: string[]) => (argv[0] === 'help' ? [...argv.slice(1), '--help'] : argv)

function reference(lines: string[][], extra: Env): {stdout: string; exit: number; message: string}[] {
  const r = spawnSync(process.execPath, ['-e', REFERENCE, JSON.stringify(lines.map(unhelp))], {cwd: ROOT, env: baseEnv(extra), encoding: 'utf8'})
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout)
}

function aplab(argv: string[], extra: Env) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/aplab.js'), ...argv], {env: baseEnv(extra), encoding: 'utf8'})
  return {stdout: r.stdout, stderr: r.stderr, exit: r.status}
}

/** Each line run both ways: the same standard output and status; oclif's error where it has one. */
function same(lines: string[][], extra: Env = {}): void {
  const want = reference(lines, extra)
  lines.forEach((argv, i) => {
    const got = aplab(argv, extra)
    expect({line: argv.join(' '), stdout: got.stdout, exit: got.exit}).toEqual({line: argv.join(' '), stdout: want[i].stdout, exit: want[i].exit})
    if (want[i].message) expect(got.stderr).toMatch(/^aplab: command '[^']+' not found\n/)
    else expect(got.stderr).toBe('')
  })
}

const roots = [[], ['--help'], ['help']]
const topics = [['mdev'], ['hw'], ['hw', 'adapter'], ['hw', 'adapter', '--x'], ['guest', '--help'], ['help', 'hw', 'domain'], ['state']]
const missing = [['help', 'bogus'], ['bogus', '--help'], ['mdev', 'create', 'extra', '--help']]
// -h is a help flag too (package.json oclif.additionalHelpFlags), but not after `--`.
const short = [['-h'], ['mdev', '-h'], ['mdev', 'assign', '-h'], ['hw', 'adapter', 'add', '-h', 'x'], ['-h', 'guest', 'list']]

describe.concurrent("aplab's help is oclif's, byte for byte", () => {
  it('the root, every command (COMMAND --help), the topics and what is no command', () => {
    same([...roots, ...ids.map((id) => [...words(id), '--help']), ...topics, ...missing, ...short])
  })

  it('after `--`, -h and --help are the command\'s', () => {
    for (const flag of ['-h', '--help']) expect(aplab(['guest', 'exec', 'g', '--', flag], {})).toEqual({stdout: '', stderr: expect.stringMatching(/^aplab: no guest named 'g'/), exit: 1})
  })

  it('`help --version` is `--version --help`: the version, as oclif answers a line that starts with --version', () => {
    same([['help', '--version'], ['help', '--version', 'mdev']])
  })

  it('`help COMMAND` and `--help` before the command words', () => {
    same(ids.filter((_, i) => i % 4 === 0).flatMap((id) => [['help', ...words(id)], ['--help', ...words(id)]]))
  })

  it('at another width (OCLIF_COLUMNS), and in colour (FORCE_COLOR)', () => {
    const some = [...roots, ...ids.filter((_, i) => i % 5 === 0).map((id) => [...words(id), '--help']), ...topics]
    same(some, {OCLIF_COLUMNS: '44'})
    same(some, {OCLIF_COLUMNS: '132', FORCE_COLOR: '1'})
  })

  it("with a user's theme or user plugins where oclif reads them: oclif's own Config answers", () => {
    const config = join(dir, 'config')
    mkdirSync(join(config, 'aplab'), {recursive: true})
    writeFileSync(join(config, 'aplab', 'theme.json'), JSON.stringify({command: 'red', sectionHeader: 'cyan', flag: 'green'}))
    const themed = [['--help'], ['mdev', 'assign', '--help'], ['mdev']]
    same(themed, {XDG_CONFIG_HOME: config, FORCE_COLOR: '1'})
    expect(aplab(['--help'], {XDG_CONFIG_HOME: config, FORCE_COLOR: '1'}).stdout).toContain('\u001b[36m\u001b[1mUSAGE')
    const data = join(dir, 'data')
    mkdirSync(join(data, 'aplab'), {recursive: true})
    writeFileSync(join(data, 'aplab', 'package.json'), JSON.stringify({private: true, oclif: {schema: 1, plugins: []}}))
    same(themed, {XDG_DATA_HOME: data})
  })
})

describe('which help runs without oclif\'s Config', () => {
  /** Whether helpHere/topicHere answered, under ENV, with what they printed discarded. */
  async function answers(f: () => Promise<boolean>, env: Env): Promise<boolean> {
    const saved = {...process.env}
    const write = process.stdout.write
    Object.assign(process.env, env)
    process.stdout.write = (() => true) as never
    try {
      return await f()
    } finally {
      process.stdout.write = write
      for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  }

  it('the help of a default install does; a topic alone does, a command or nothing does not', async () => {
    const none = {XDG_CONFIG_HOME: join(dir, 'none'), XDG_DATA_HOME: join(dir, 'none')}
    expect(await answers(() => helpHere(['--help']), none)).toBe(true)
    expect(await answers(() => helpHere(['mdev', 'list', '--help']), none)).toBe(true)
    expect(await answers(() => topicHere(['hw', 'adapter']), none)).toBe(true)
    expect(await answers(() => topicHere(['mdev', 'list']), none)).toBe(false)
    expect(await answers(() => topicHere(['bogus']), none)).toBe(false)
  })

  it("a user's theme.json or plugins package.json leaves it to oclif", async () => {
    const config = join(dir, 'theme-only')
    mkdirSync(join(config, 'aplab'), {recursive: true})
    writeFileSync(join(config, 'aplab', 'theme.json'), '{}')
    expect(await answers(() => helpHere(['--help']), {XDG_CONFIG_HOME: config, XDG_DATA_HOME: join(dir, 'none')})).toBe(false)
    expect(await answers(() => helpHere(['--help']), {APLAB_CONFIG_DIR: join(config, 'aplab'), XDG_DATA_HOME: join(dir, 'none')})).toBe(false)
    const data = join(dir, 'plugins-only')
    mkdirSync(join(data, 'aplab'), {recursive: true})
    writeFileSync(join(data, 'aplab', 'package.json'), '{}')
    expect(await answers(() => topicHere(['mdev']), {XDG_CONFIG_HOME: join(dir, 'none'), XDG_DATA_HOME: data})).toBe(false)
  })

  it('a manifest that is JSON but not a manifest (no version, no commands) leaves it to oclif, which makes one from the command classes', () => {
    const root = join(dir, 'bad-manifest')
    mkdirSync(root, {recursive: true})
    writeFileSync(join(root, 'package.json'), readFileSync(join(ROOT, 'package.json')))
    const env = {XDG_CONFIG_HOME: join(dir, 'none'), XDG_DATA_HOME: join(dir, 'none')}
    const saved = {...process.env}
    Object.assign(process.env, env)
    try {
      const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {version: string}).version
      writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify({version, commands: {}}))
      expect(helpConfig(root)).toBeDefined()
      for (const bad of ['{}', 'null', '[]', '"x"', '{"version":1,"commands":{}}', `{"version":"${version}"}`, `{"version":"${version}","commands":null}`]) {
        writeFileSync(join(root, 'oclif.manifest.json'), bad)
        expect({bad, config: helpConfig(root)}).toEqual({bad, config: undefined})
      }
    } finally {
      for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  })
})
