// The commands parse plain command lines without oclif (src/cli/fastparse.ts)
// and build their flags without it (src/cli/flags.ts). Wherever the fast
// parser answers, oclif's parser must answer the same; the builders must make
// oclif's objects.

import {Args as OclifArgs, Flags as OclifFlags, Parser} from '@oclif/core'
import fc from 'fast-check'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {describe, expect, it} from 'vitest'

import {Args, Flags} from '../../src/cli/flags.js'
import {fastParse, type FastInput} from '../../src/cli/fastparse.js'
import {COMMANDS} from '../../src/commands.js'

type Def = Record<string, unknown>
const withoutFunctions = (o: Def): Def => Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== 'function'))

describe("the flag builders make oclif's objects", () => {
  const samples: Def[] = [{}, {description: 'd', char: 'p', default: 'x', options: ['x', 'y'], required: true}, {multiple: true, multipleNonGreedy: true}, {helpGroup: 'GLOBAL', exclusive: ['a']}]
  it('Flags.string, Flags.boolean, Args.string, Args.directory', async () => {
    for (const o of samples) {
      expect(withoutFunctions(Flags.string(o as never) as Def)).toEqual(withoutFunctions(OclifFlags.string(o as never) as Def))
      expect(withoutFunctions(Flags.boolean(o as never) as Def)).toEqual(withoutFunctions(OclifFlags.boolean(o as never) as Def))
      expect(withoutFunctions(Args.string(o as never) as Def)).toEqual(withoutFunctions(OclifArgs.string(o as never) as Def))
      expect(withoutFunctions(Args.directory(o as never) as Def)).toEqual(withoutFunctions(OclifArgs.directory(o as never) as Def))
      expect(await (Flags.string(o as never) as unknown as {parse: (s: string) => Promise<unknown>}).parse('v')).toBe('v')
      expect(await (Flags.boolean(o as never) as unknown as {parse: (b: boolean) => Promise<unknown>}).parse(true)).toBe(true)
    }
  })
  it("Args.directory with exists refuses as oclif's does", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aplab-fastparse-'))
    try {
      fs.writeFileSync(path.join(dir, 'f'), '')
      for (const input of [dir, path.join(dir, 'f'), path.join(dir, 'missing')]) {
        const ours = Args.directory({exists: true}) as unknown as {parse: (i: string, c: unknown, o: unknown) => Promise<string>}
        const theirs = OclifArgs.directory({exists: true}) as unknown as {parse: (i: string, c: unknown, o: unknown) => Promise<string>}
        const a = await ours.parse(input, {}, {exists: true}).then((v) => ({v}), (e: Error) => ({e: e.message}))
        const b = await theirs.parse(input, {}, {exists: true}).then((v) => ({v}), (e: Error) => ({e: e.message}))
        expect(a).toEqual(b)
      }
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
  })
})

/** The words a command line of this command may be made of: its flags in every form, values, arguments. */
function words(cmd: {flags?: Record<string, Def>; baseFlags?: Record<string, Def>; args?: Record<string, Def>}): string[] {
  const w = ['--', '-', '-5', '-5,-6', 'x', 'guest1', '0x05', '--bogus', '-Z', '-fn', 'default', 'bash', 'show', '/']
  for (const [name, def] of Object.entries({...cmd.baseFlags, ...cmd.flags})) {
    w.push(`--${name}`, `--${name}=v`, `--${name}=`, `--no-${name}`)
    if (def.char) w.push(`-${def.char}`, `-${def.char}v`, `-${def.char}=v`)
    for (const o of (def.options as string[] | undefined) ?? []) w.push(o, `--${name}=${o}`)
  }
  for (const def of Object.values(cmd.args ?? {})) for (const o of (def.options as string[] | undefined) ?? []) w.push(o)
  return w
}

describe("the fast parser answers only as oclif's parser does", () => {
  for (const [id, cmd] of Object.entries(COMMANDS)) {
    const c = cmd as unknown as {flags?: Record<string, Def>; baseFlags?: Record<string, Def>; args?: Record<string, Def>; strict?: boolean}
    it(id, async () => {
      const flags = {...c.baseFlags, ...c.flags}
      const input = {flags, args: c.args ?? {}, strict: c.strict !== false} as FastInput
      let answered = 0
      await fc.assert(
        fc.asyncProperty(fc.array(fc.constantFrom(...words(c)), {maxLength: 6}), async (argv) => {
          const fast = await fastParse(argv, input, {})
          if (!fast) return
          answered++
          const slow = await Parser.parse(argv, {context: {}, flags, args: c.args ?? {}, strict: c.strict !== false} as Parameters<typeof Parser.parse>[1])
          expect({flags: fast.flags, args: fast.args, argv: fast.argv}).toEqual({flags: slow.flags, args: slow.args, argv: slow.argv})
        }),
        {numRuns: 150},
      )
      // A property that never compares anything cannot fail: the plain lines must be answered.
      if (Object.keys(c.args ?? {}).length === 0) expect(answered).toBeGreaterThan(0)
    })
  }
})
