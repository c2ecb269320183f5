import {describe, expect, it} from 'vitest'

import {editDistance, unknownCommand} from '../../src/cli/suggest.js'
import {COMMANDS} from '../../src/commands.js'

const IDS = Object.keys(COMMANDS)

describe('an unknown command', () => {
  it('is named by the words up to the first unknown one, not the arguments after it', () => {
    expect(unknownCommand(['guest', 'strat', 'guest1'], IDS)).toEqual({typed: 'guest strat', suggestion: 'guest start'})
    expect(unknownCommand(['gust', 'list'], IDS)).toEqual({typed: 'gust', suggestion: 'guest'})
    expect(unknownCommand(['mdev', 'lst', '-x'], IDS)).toEqual({typed: 'mdev lst', suggestion: 'mdev list'})
    expect(unknownCommand(['hw', 'adapter', 'ad', '5'], IDS)).toEqual({typed: 'hw adapter ad', suggestion: 'hw adapter add'})
    expect(unknownCommand(['frobnicate', 'x'], IDS)).toEqual({typed: 'frobnicate'})
    expect(unknownCommand(['lszcrpyt'], IDS)).toEqual({typed: 'lszcrpyt', suggestion: 'lszcrypt'})
  })
  it('edit distance counts a swap of neighbours as one edit', () => {
    expect(editDistance('strat', 'start')).toBe(1)
    expect(editDistance('', 'abc')).toBe(3)
    expect(editDistance('kitten', 'sitting')).toBe(3)
  })
})
