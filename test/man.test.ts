// The manual pages document every option the code has: lszcrypt(8) and
// chzcrypt(8) every option of the mirrored tools, aplab(1) every command and
// flag of the oclif command table. And mandoc accepts them without a word.

import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {COMMANDS} from '../src/commands.js'
import {PRESETS} from '../src/core/presets.js'
import {CHZCRYPT_OPTIONS} from '../src/tools/chzcrypt.js'
import type {HelpOpt} from '../src/tools/usage.js'
import {LSZCRYPT_OPTIONS} from '../src/views/lszcrypt.js'

const MAN_DIR = join(import.meta.dirname, '..', 'man')
const PAGES = readdirSync(MAN_DIR).filter((f) => /\.[1-8]$/.test(f)).sort()

const source = (page: string): string => readFileSync(join(MAN_DIR, page), 'utf8')

/** The roff text with escapes reduced to what a reader sees: `\-` is `-`, font changes vanish. */
function unescape(roff: string): string {
  return roff
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\[&|^c]/g, '')
    .replace(/\\-/g, '-')
    .replace(/\\\(lq|\\\(rq/g, '"')
    .replace(/\\e/g, '\\')
}

/** The lines of one section (from `.SH NAME` to the next `.SH`), unescaped. */
function section(roff: string, name: string): string {
  const out: string[] = []
  let inside = false
  for (const line of roff.split('\n')) {
    const m = /^\.SH\s+(.*)$/.exec(line)
    if (m) {
      inside = m[1].replace(/"/g, '').trim() === name
      continue
    }
    if (inside) out.push(line)
  }
  return unescape(out.join('\n'))
}

function sectionNames(roff: string): string[] {
  return [...roff.matchAll(/^\.SH\s+(.*)$/gm)].map((m) => m[1].replace(/"/g, '').trim())
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Whether `word` (an option such as `-c` or `--bus`, or a command) stands on its own in `text`. */
function mentions(text: string, word: string): boolean {
  return new RegExp(`(^|[^\\w-])${escapeRe(word)}(?![\\w-])`, 'm').test(text)
}

/** `-x` and `--name` of every option of a tool's table. */
function toolOptions(opts: HelpOpt[]): string[] {
  return opts.flatMap((o) => [...(o.short ? [`-${o.short}`] : []), ...(o.long ? [`--${o.long}`] : [])])
}

const hasCommand = (cmd: string): boolean => !spawnSync(cmd, ['--version'], {encoding: 'utf8'}).error
const HAVE_MANDOC = !spawnSync('mandoc', ['-Tlint', '/dev/null'], {encoding: 'utf8'}).error
const HAVE_GROFF = hasCommand('groff')

describe.each([
  {page: 'lszcrypt.8', opts: LSZCRYPT_OPTIONS},
  {page: 'chzcrypt.8', opts: CHZCRYPT_OPTIONS},
])('$page', ({page, opts}) => {
  const roff = source(page)
  const options = section(roff, 'OPTIONS')

  it('has the usual sections', () => {
    const names = sectionNames(roff)
    for (const s of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'EXAMPLES', 'SEE ALSO'])
      expect(names, s).toContain(s)
  })

  it.each(toolOptions(opts))('documents %s in OPTIONS', (opt) => {
    expect(mentions(options, opt), `${opt} is missing from the OPTIONS section of ${page}`).toBe(true)
  })

  it('gives every option its own tagged paragraph', () => {
    const tags = unescape(roff)
      .split('\n')
      .map((l, i, all) => (all[i - 1]?.startsWith('.TP') ? l : ''))
      .join('\n')
    for (const o of opts) {
      const opt = o.long ? `--${o.long}` : `-${o.short}`
      expect(mentions(tags, opt), `no .TP paragraph for ${opt}`).toBe(true)
    }
  })

  it('says what it emulates and how it is configured', () => {
    const text = unescape(roff)
    expect(section(roff, 'DESCRIPTION')).toMatch(/s390-tools 2\.43\.0/)
    expect(text).toMatch(/state file/)
    const env = section(roff, 'ENVIRONMENT')
    for (const v of ['APLAB_STATE', 'APLAB_HOST', 'APLAB_UID', 'SYSFS_ROOT', 'POSIXLY_CORRECT']) expect(mentions(env, v), v).toBe(true)
    expect(env).toContain('${XDG_STATE_HOME:-~/.local/state}/aplab/state.yaml')
    const exit = section(roff, 'EXIT STATUS')
    expect(exit).toMatch(/^\.B 0$/m)
    expect(exit).toMatch(/^\.B 1$/m)
  })
})

describe('aplab.1', () => {
  const roff = source('aplab.1')
  const text = unescape(roff)

  type Flag = {name: string; char?: string}
  type CommandClass = {flags?: Record<string, Flag>; baseFlags?: Record<string, Flag>}

  const commands = Object.entries(COMMANDS as Record<string, CommandClass>).map(([id, cls]) => ({
    id,
    words: id.replace(/:/g, ' '),
    flags: Object.entries({...(cls.baseFlags ?? {}), ...(cls.flags ?? {})}),
  }))

  it('has the usual sections', () => {
    const names = sectionNames(roff)
    for (const s of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'EXAMPLES', 'SEE ALSO'])
      expect(names, s).toContain(s)
  })

  it.each(commands.map((c) => c.words))('documents the command %s', (words) => {
    expect(mentions(section(roff, 'COMMANDS'), words), `${words} is missing from COMMANDS`).toBe(true)
    expect(mentions(section(roff, 'SYNOPSIS'), `aplab ${words}`), `aplab ${words} is missing from SYNOPSIS`).toBe(true)
  })

  const flags = commands.flatMap((c) =>
    c.flags.flatMap(([name, f]) => [
      {id: c.words, opt: `--${name}`},
      ...(f.char ? [{id: c.words, opt: `-${f.char}`}] : []),
    ]),
  )

  it('finds flags in the command table', () => {
    expect(flags.map((f) => f.opt)).toEqual(expect.arrayContaining(['--state', '--host', '--force', '-f']))
  })

  /** A topic's commands (`mdev create`, ...) have their flags in aplab-TOPIC.1 when it exists. */
  const pageOf = (id: string): string => {
    const topic = id.includes(' ') ? `aplab-${id.split(' ')[0]}.1` : ''
    return topic && existsSync(join(MAN_DIR, topic)) ? topic : 'aplab.1'
  }

  it.each(flags)('documents $opt of $id', ({id, opt}) => {
    const page = pageOf(id)
    const where = page === 'aplab.1' ? text : section(source(page), 'COMMANDS') + section(source(page), 'OPTIONS')
    expect(mentions(where, opt), `${opt} is missing from ${page}`).toBe(true)
  })

  it.each(PRESETS.map((p) => p.name))('documents the preset %s', (name) => {
    expect(section(roff, 'PRESETS')).toMatch(new RegExp(`^\\.TP\\n\\.B ${escapeRe(name)}$`, 'm'))
  })

  it('documents the exit statuses and the environment', () => {
    const exit = section(roff, 'EXIT STATUS')
    for (const code of ['0', '1', '2', '70']) expect(exit).toMatch(new RegExp(`^\\.B ${code}$`, 'm'))
    const env = section(roff, 'ENVIRONMENT')
    for (const v of ['APLAB_STATE', 'APLAB_HOST', 'APLAB_UID', 'XDG_STATE_HOME', 'SYSFS_ROOT']) expect(mentions(env, v), v).toBe(true)
  })
})

describe('lint', () => {

  it.skipIf(!HAVE_MANDOC).each(PAGES)('mandoc -Tlint -W warning accepts %s', (page) => {
    const r = spawnSync('mandoc', ['-Tlint', '-W', 'warning', join(MAN_DIR, page)], {encoding: 'utf8'})
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it.skipIf(!HAVE_GROFF).each(PAGES)('groff -man -ww -z has no warning for %s', (page) => {
    const r = spawnSync('groff', ['-man', '-ww', '-z', join(MAN_DIR, page)], {encoding: 'utf8'})
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
})
