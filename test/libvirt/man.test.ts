// virsh(1) documents every command and option of the command table.

import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {COMMANDS} from '../../src/libvirt/virsh.js'

const roff = readFileSync(join(import.meta.dirname, '..', '..', 'man', 'virsh.1'), 'utf8')
const text = roff.replace(/\\f(\[[^\]]*\]|\(..|.)/g, '').replace(/\\[&|^c]/g, '').replace(/\\-/g, '-')
const mentions = (word: string): boolean => new RegExp(`(^|[^\\w-])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`, 'm').test(text)

describe('virsh(1)', () => {
  it.each(COMMANDS.map((c) => c.name))('documents the command %s', (name) => {
    expect(mentions(name)).toBe(true)
  })
  it.each(COMMANDS.flatMap((c) => c.opts.filter((o) => !o.positional).map((o) => [c.name, `--${o.name}`])))('%s: documents %s', (_cmd, opt) => {
    expect(mentions(opt)).toBe(true)
  })
  it.each(['-c', '--connect', '-q', '--quiet', '-r', '--readonly', '-t', '--timing', '-d', '--debug', '-e', '--escape', '-k', '--keepalive-interval', '-K', '--keepalive-count', '-l', '--log', '-h', '--help', '-v', '--version', '-V'])('documents the global option %s', (opt) => {
    expect(mentions(opt)).toBe(true)
  })
})
