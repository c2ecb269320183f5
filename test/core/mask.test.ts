import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {errno} from '../helpers.js'
import {Mask, formatRanges, kstrtoul, parseMaskWrite, parseRanges} from '../../src/core/mask.js'


const ALL = Mask.full()

describe('apmask/aqmask write syntax (kernel-qemu.md §1.2)', () => {
  it('absolute hex is padded with zeros on the right', () => {
    expect(parseMaskWrite(ALL, '0x41\n').toString()).toBe('0x41' + '0'.repeat(62))
    expect(parseMaskWrite(ALL, '0x7d').bits()).toEqual([1, 2, 3, 4, 5, 7])
  })
  it('0x is optional, a bare x too; 0X is rejected', () => {
    expect(parseMaskWrite(ALL, 'ff').bits()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(parseMaskWrite(ALL, 'x8').bits()).toEqual([0])
    expect(errno(() => parseMaskWrite(ALL, '0X1'))).toBe('EINVAL')
  })
  it('64 digits are fine, a 65th is EINVAL', () => {
    expect(parseMaskWrite(ALL, '0x' + 'f'.repeat(64)).equals(ALL)).toBe(true)
    expect(errno(() => parseMaskWrite(ALL, '0x' + 'f'.repeat(65)))).toBe('EINVAL')
  })
  it('an empty write, a lone newline or a bare 0x clear the mask', () => {
    for (const s of ['', '\n', '0x', '0x\n']) expect(parseMaskWrite(ALL, s).isEmpty()).toBe(true)
  })
  it('trailing junk is EINVAL', () => {
    for (const s of ['0x1 ', '0x1,', '0x1\n\n', '0x1X', '0xg']) expect(errno(() => parseMaskWrite(ALL, s))).toBe('EINVAL')
  })
  it('relative edits apply in order onto the current mask', () => {
    const m = parseMaskWrite(Mask.empty(), '+0,-6,+0x47,-0xf0')
    expect(m.bits()).toEqual([0, 71])
    expect(parseMaskWrite(ALL, '-5,-6\n').bits().length).toBe(254)
    expect(parseMaskWrite(ALL, '-4,-0x47,-0xab,-0xff').has(0xab)).toBe(false)
    expect(parseMaskWrite(Mask.empty(), '+0-255,-128').count()).toBe(255)
    expect(parseMaskWrite(Mask.empty(), '+010').bits()).toEqual([8])
    expect(parseMaskWrite(Mask.empty(), '+1,,\n,+2').bits()).toEqual([1, 2])
  })
  it('relative edits reject bad terms', () => {
    for (const s of ['+', '+256', '-5-3', '+1-256', '+1, +2', '+1;', '+x1', '+0-'])
      expect(errno(() => parseMaskWrite(ALL, s)), s).toBe('EINVAL')
  })
})

describe('kstrtoul (assign_* syntax)', () => {
  it('accepts decimal, hex and octal with an optional newline', () => {
    expect(kstrtoul('5')).toBe(5n)
    expect(kstrtoul('0x0a\n')).toBe(10n)
    expect(kstrtoul('020')).toBe(16n)
    expect(kstrtoul('+7')).toBe(7n)
  })
  it('rejects junk and overflows', () => {
    for (const s of ['08', '0x', '', ' 5', '-1', '5 ', '5\n\n']) expect(errno(() => kstrtoul(s)), s).toBe('EINVAL')
    expect(errno(() => kstrtoul('0x10000000000000000'))).toBe('ERANGE')
  })
})

describe('range lists in the state file', () => {
  it('round-trip', () => {
    const m = Mask.of([0, 1, 2, 5, 0x47, 0xff])
    expect(formatRanges(m)).toBe('0x00-0x02,0x05,0x47,0xff')
    expect(parseRanges(formatRanges(m)).equals(m)).toBe(true)
    expect(parseRanges('').isEmpty()).toBe(true)
    expect(() => parseRanges('5-3')).toThrow(/reversed/)
    expect(() => parseRanges('256')).toThrow(/above 255/)
  })
})

describe('Mask set operations', () => {
  const bits = fc.uniqueArray(fc.integer({min: 0, max: 255}), {maxLength: 20})
  it('and, or, andNot, intersects, isSubsetOf, union, isEmpty, equals and bits are those of the sets of bits', () => {
    fc.assert(
      fc.property(bits, bits, (x, y) => {
        const a = Mask.of(x)
        const b = Mask.of(y)
        const inY = new Set(y)
        const sorted = (l: number[]) => [...l].sort((p, q) => p - q)
        expect(a.and(b).bits()).toEqual(sorted(x.filter((n) => inY.has(n))))
        expect(a.or(b).bits()).toEqual(sorted([...new Set([...x, ...y])]))
        expect(a.andNot(b).bits()).toEqual(sorted(x.filter((n) => !inY.has(n))))
        expect(a.intersects(b)).toBe(x.some((n) => inY.has(n)))
        expect(a.isSubsetOf(b)).toBe(x.every((n) => inY.has(n)))
        expect(Mask.union([a, b, Mask.empty()]).bits()).toEqual(sorted([...new Set([...x, ...y])]))
        expect(a.bits()).toEqual(sorted(x))
        expect(a.isEmpty()).toBe(x.length === 0)
        expect(a.equals(b)).toBe(sorted(x).join() === sorted(y).join())
      }),
    )
  })
})

describe('Mask.range and Mask.union', () => {
  it('range is every bit from lo to hi, a word at a time as one bit at a time', () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: 255}), fc.integer({min: 0, max: 255}), (lo, hi) => {
        const bits: number[] = []
        for (let i = lo; i <= hi; i++) bits.push(i)
        expect(Mask.range(lo, hi).equals(Mask.of(bits))).toBe(true)
      }),
      {numRuns: 2000},
    )
    for (const [lo, hi] of [[0, 255], [0, 0], [255, 255], [31, 32], [32, 63], [5, 4]]) expect(Mask.range(lo, hi).bits()).toEqual(Array.from({length: Math.max(0, hi - lo + 1)}, (_, i) => lo + i))
    expect(() => Mask.range(0, 256)).toThrow(RangeError)
    expect(() => Mask.range(-1, 3)).toThrow(RangeError)
  })
  it('union is every bit of any, the same mask listed again or not', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({min: 0, max: 255}), {maxLength: 6}), {maxLength: 8}), fc.array(fc.nat(7), {maxLength: 12}), (sets, again) => {
        const masks = sets.map((b) => Mask.of(b))
        const listed = masks.length === 0 ? [] : [...masks, ...again.map((i) => masks[i % masks.length])].flatMap((m, i) => (i % 2 ? [m, m] : [m]))
        expect(Mask.union(listed).bits()).toEqual([...new Set(sets.flat())].sort((a, b) => a - b))
      }),
    )
  })
})
