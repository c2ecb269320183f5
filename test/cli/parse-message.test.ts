// How aplab says oclif's parse errors: one line, the names of what is missing.

import {describe, expect, it} from 'vitest'

import {parseMessage} from '../../src/cli/base.js'

const NOTE =
  '\n\nNote: --adapter, --domain allow multiple values. Because of this you need to provide all arguments before providing those flags.' +
  '\nAlternatively, you can use "--" to signify the end of the flags and the beginning of arguments.'

describe('parseMessage', () => {
  it('names the missing arguments', () => {
    expect(parseMessage('Missing 2 required args:\nname    the guest\ndevice  the device\nSee more help with --help')).toBe('Missing 2 required args: name, device')
  })

  it('keeps the note on flags with several values only when the command line used one', () => {
    const text = 'Missing 1 required arg:\nuuid  the mdev' + NOTE + '\nSee more help with --help'
    expect(parseMessage(text, [])).toBe('Missing 1 required arg: uuid')
    expect(parseMessage(text, ['--domain=4'])).toBe(
      'Missing 1 required arg: uuid\nNote: --adapter, --domain allow multiple values. Because of this you need to provide all arguments before providing those flags.' +
        ' Alternatively, you can use "--" to signify the end of the flags and the beginning of arguments.',
    )
  })

  it('says a missing flag with its dashes, without the framing', () => {
    expect(parseMessage('The following error occurred:\n  Missing required flag type\nSee more help with --help')).toBe('Missing required flag --type')
  })

  it('leaves one-line messages as they are', () => {
    expect(parseMessage('Nonexistent flag: -x\nSee more help with --help')).toBe('Nonexistent flag: -x')
    expect(parseMessage('Unexpected argument: foo\nSee more help with --help')).toBe('Unexpected argument: foo')
  })
})
