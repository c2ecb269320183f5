// The hash that ties the state's cache to its text (src/state/hash.ts).
import {createHash} from 'node:crypto'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {LARGE, textHash} from '../../src/state/hash.js'

describe('the text hash of the state cache', () => {
  it('is MurmurHash3 x86_32 in its first lane (the reference values)', () => {
    // MurmurHash3_x86_32 of these strings with seed 0x9747b28c, as published with the algorithm's test vectors.
    expect(textHash('Hello, world!').slice(0, 8)).toBe('24884cba')
    expect(textHash('The quick brown fox jumps over the lazy dog').slice(0, 8)).toBe('2fa826cd')
  })

  it('is the same for a text and its bytes, wherever the bytes lie in memory', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary', maxLength: 200}), fc.integer({min: 0, max: 7}), (t, offset) => {
        const bytes = Buffer.from(t, 'utf8')
        const shifted = Buffer.alloc(bytes.length + offset)
        bytes.copy(shifted, offset)
        expect(textHash(shifted.subarray(offset))).toBe(textHash(t))
        expect(textHash(bytes)).toMatch(/^[0-9a-f]{16}$/)
      }),
    )
  })

  it('changes with any one byte, and with the length', () => {
    fc.assert(
      fc.property(fc.uint8Array({minLength: 1, maxLength: 300}), fc.nat(), fc.integer({min: 1, max: 255}), (b, at, flip) => {
        const other = Uint8Array.from(b)
        other[at % b.length] ^= flip
        expect(textHash(other)).not.toBe(textHash(b))
        expect(textHash(b.subarray(0, b.length - 1))).not.toBe(textHash(b))
      }),
    )
  })
})

describe('the text hash of a large state', () => {
  it('is SHA-1 from LARGE bytes on, MurmurHash3 below: the length alone chooses', () => {
    const big = Buffer.alloc(LARGE, 'a')
    expect(textHash(big)).toBe(createHash('sha1').update(big).digest('hex'))
    expect(textHash(big.toString())).toBe(textHash(big))
    const below = big.subarray(0, LARGE - 1)
    expect(textHash(below)).toMatch(/^[0-9a-f]{16}$/)
    expect(textHash(below)).not.toBe(textHash(Buffer.alloc(LARGE - 1, 'b')))
  })

  it('changes with any one byte of a large text, and with its length', () => {
    const text = Buffer.alloc(LARGE + 100, 'x')
    const h = textHash(text)
    fc.assert(
      fc.property(fc.nat({max: text.length - 1}), fc.integer({min: 1, max: 255}), (at, flip) => {
        const other = Buffer.from(text)
        other[at] ^= flip
        expect(textHash(other)).not.toBe(h)
      }),
      {numRuns: 50},
    )
    expect(textHash(text.subarray(1))).not.toBe(h)
  })
})
