// The flag and argument builders of the commands: the same objects as
// @oclif/core's Flags.string/boolean and Args.string/directory build (its
// lib/flags.js and lib/args.js), without loading oclif. A command's module
// is loaded at every call of it; oclif itself only when its parser or its
// help is needed (src/cli/base.ts). test/cli/fast-parse.test.ts holds these
// to oclif's own builders.

import type * as OclifArgs from '@oclif/core/args'
import type * as OclifFlags from '@oclif/core/flags'

/** oclif's Flags.custom: an option flag. */
function customFlag(defaults: Record<string, unknown> = {}) {
  return (options: Record<string, unknown> = {}) => ({
    parse: async (input: string) => input,
    ...defaults,
    ...options,
    input: [],
    multiple: Boolean(options.multiple === undefined ? (defaults.multiple ?? false) : options.multiple),
    type: 'option',
  })
}

/** oclif's Args.custom. */
function customArg(defaults: Record<string, unknown> = {}) {
  return (options: Record<string, unknown> = {}) => ({
    parse: async (input: string) => input,
    ...defaults,
    ...options,
    input: [],
    type: 'option',
  })
}

/** oclif's dirExists (lib/util/fs.js): the same errors. */
async function dirExists(input: string): Promise<string> {
  const {stat} = await import('node:fs/promises')
  let st
  try {
    st = await stat(input)
  } catch {
    throw new Error(`No directory found at ${input}`)
  }
  if (!st.isDirectory()) throw new Error(`${input} exists but is not a directory`)
  return input
}

export const Flags = {
  string: customFlag() as unknown as typeof OclifFlags.string,
  boolean: ((options: Record<string, unknown> = {}) => ({
    parse: async (b: boolean) => b,
    ...options,
    allowNo: Boolean(options.allowNo),
    type: 'boolean',
  })) as unknown as typeof OclifFlags.boolean,
}

export const Args = {
  string: customArg() as unknown as typeof OclifArgs.string,
  directory: customArg({
    parse: async (input: string, _ctx: unknown, opts: {exists?: boolean}) => (opts.exists ? dirExists(input) : input),
  }) as unknown as typeof OclifArgs.directory,
}
