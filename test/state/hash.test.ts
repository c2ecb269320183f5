// The hash that ties the state's cache to its text (src/state/hash.ts).
import fc from 'fast-check'
import {describe, expect, it, vi} from 'vitest'

import {LARGE} from '../../src/state/cache.js'
import {BLOCKS_WASM, bodyHash, bodyHashLength, lanes, textHash, x64} from '../../src/state/hash.js'

describe('the text hash of the state cache', () => {
  it('is, where WebAssembly is off, MurmurHash3 x86_32 in its first lane (the reference values)', () => {
    // MurmurHash3_x86_32 of these strings with seed 0x9747b28c, as published with the algorithm's test vectors.
    expect(lanes(Buffer.from('Hello, world!')).slice(0, 8)).toBe('24884cba')
    expect(lanes(Buffer.from('The quick brown fox jumps over the lazy dog')).slice(0, 8)).toBe('2fa826cd')
  })

  it("a cache body's hash is the text's hash, of any length", () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 300}), fc.nat(3), (b, offset) => {
        const shifted = new Uint8Array(b.length + offset)
        shifted.set(b, offset)
        expect(bodyHash(shifted.subarray(offset))).toBe(textHash(b))
      }),
    )
    const big = Buffer.alloc(LARGE, 'x')
    expect(bodyHash(big)).toBe(textHash(big))
    expect(bodyHashLength()).toBe(32)
    expect(textHash(big).length).toBe(32)
  })

  it('is the same for a text and its bytes, wherever the bytes lie in memory', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary', maxLength: 200}), fc.integer({min: 0, max: 7}), (t, offset) => {
        const bytes = Buffer.from(t, 'utf8')
        const shifted = Buffer.alloc(bytes.length + offset)
        bytes.copy(shifted, offset)
        expect(textHash(shifted.subarray(offset))).toBe(textHash(t))
        expect(textHash(bytes)).toMatch(/^[0-9a-f]{32}$/)
        expect(lanes(shifted.subarray(offset))).toBe(lanes(bytes))
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
  it('is MurmurHash3_x64_128 (seed 0x9747b28c, its bytes in hex): the reference values', () => {
    // As published with other implementations' tests (NHasher's MurmurHash128X64V3Tests, the same seed).
    expect(x64(Buffer.from(''))).toBe('b3bbaa1d8a202b397a9502e38f60b093')
    expect(x64(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe('213163d23b7f8a73e516c07e727345f9')
    expect(x64(Buffer.from('The quick brown fox jumps over the lazy cog'))).toBe('94618270b057cdb83cf873585b456f55')
    const big = Buffer.alloc(LARGE, 'a')
    expect(textHash(big)).toBe(x64(big))
    expect(textHash(big)).toMatch(/^[0-9a-f]{32}$/)
    expect(textHash(big.toString())).toBe(textHash(big))
    expect(textHash(big.subarray(1))).toBe(x64(big.subarray(1)))
    expect(textHash('')).toBe('b3bbaa1d8a202b397a9502e38f60b093')
  })

  it('is what a plain implementation of MurmurHash3_x64_128 gives, for any length and any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 300}), fc.nat({max: 3}), (b, grow) => {
        // Longer inputs too: the bytes repeated (the block loop runs over more memory than one page).
        const bytes = grow === 0 ? b : Buffer.concat(Array.from({length: 1 + grow * 250}, () => Buffer.from(b)))
        expect(x64(bytes)).toBe(reference(bytes, 0x9747b28c))
      }),
      {numRuns: 200},
    )
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

  it('is the small one where WebAssembly is off (node --jitless): a cache written the other way is no cache', async () => {
    const wasm = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly')!
    vi.resetModules()
    delete (globalThis as {WebAssembly?: unknown}).WebAssembly
    try {
      const fresh = await import('../../src/state/hash.js')
      const big = Buffer.alloc(LARGE, 'a')
      expect(fresh.x64(big)).toBeNull()
      expect(fresh.textHash(big)).toMatch(/^[0-9a-f]{16}$/)
      expect(fresh.textHash(big)).toBe(lanes(big))
      expect(fresh.textHash(big)).not.toBe(textHash(big))
      // The body's: the first lane alone, written out.
      expect(fresh.bodyHash(Buffer.from('Hello, world!'))).toBe('24884cba')
      fc.assert(
        fc.property(fc.uint8Array({maxLength: 300}), (b) => {
          expect(fresh.bodyHash(b)).toBe(lanes(b).slice(0, 8))
        }),
      )
      expect([fresh.textHash(Buffer.from('x')).length, fresh.bodyHashLength()]).toEqual([16, 8])
    } finally {
      Object.defineProperty(globalThis, 'WebAssembly', wasm)
      vi.resetModules()
    }
  })

  it('is the lanes where the module cannot have the memory for a text (x64 gives none)', async () => {
    const wasm = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly')!
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const real = (globalThis as any).WebAssembly
    vi.resetModules()
    Object.defineProperty(globalThis, 'WebAssembly', {
      configurable: true,
      value: {
        Module: real.Module,
        Instance: class {
          exports: Record<string, unknown>
          constructor(m: object) {
            const e = new real.Instance(m).exports as Record<string, unknown> & {m: {buffer: ArrayBuffer}}
            this.exports = {...e, m: {buffer: e.m.buffer, grow: () => { throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded') }}}
          }
        },
      },
    })
    try {
      const fresh = await import('../../src/state/hash.js')
      const big = Buffer.alloc(3 * 65536, 'a')
      expect(fresh.x64(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe('213163d23b7f8a73e516c07e727345f9')
      expect(fresh.x64(big)).toBeNull()
      expect(fresh.textHash(big)).toBe(lanes(big))
    } finally {
      Object.defineProperty(globalThis, 'WebAssembly', wasm)
      vi.resetModules()
    }
  })

  it('says how long a hash is', () => {
    for (const n of [0, 1, LARGE - 1, LARGE, LARGE + 17]) {
      expect(textHash(Buffer.alloc(n, 'q')).length).toBe(32)
      expect(bodyHashLength()).toBe(bodyHash(Buffer.alloc(n, 'q')).length)
    }
  })

  it('runs its block loop as the module its instructions make', () => {
    expect(assemble()).toBe(BLOCKS_WASM)
  })
})

/** MurmurHash3_x64_128 as its reference (SMHasher's MurmurHash3.cpp) states it, in BigInt: h1 then h2, little-endian, in hex. */
function reference(bytes: Uint8Array, seed: number): string {
  const M = (1n << 64n) - 1n
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M
  const mul = (a: bigint, b: bigint) => (a * b) & M
  const c1 = 0x87c37b91114253d5n
  const c2 = 0x4cf5ad432745937fn
  const fmix = (k: bigint) => {
    k ^= k >> 33n
    k = mul(k, 0xff51afd7ed558ccdn)
    k ^= k >> 33n
    k = mul(k, 0xc4ceb9fe1a85ec53n)
    return k ^ (k >> 33n)
  }
  const word = (at: number, n: number) => {
    let k = 0n
    for (let i = n - 1; i >= 0; i--) k = (k << 8n) | BigInt(bytes[at + i])
    return k
  }
  let h1 = BigInt(seed)
  let h2 = BigInt(seed)
  const blocks = Math.floor(bytes.length / 16)
  for (let i = 0; i < blocks; i++) {
    const k1 = mul(rotl(mul(word(16 * i, 8), c1), 31n), c2)
    h1 = (mul((rotl(h1 ^ k1, 27n) + h2) & M, 5n) + 0x52dce729n) & M
    const k2 = mul(rotl(mul(word(16 * i + 8, 8), c2), 33n), c1)
    h2 = (mul((rotl(h2 ^ k2, 31n) + h1) & M, 5n) + 0x38495ab5n) & M
  }
  const tail = bytes.length - 16 * blocks
  if (tail > 8) h2 ^= mul(rotl(mul(word(16 * blocks + 8, tail - 8), c2), 33n), c1)
  if (tail > 0) h1 ^= mul(rotl(mul(word(16 * blocks, Math.min(tail, 8)), c1), 31n), c2)
  h1 ^= BigInt(bytes.length)
  h2 ^= BigInt(bytes.length)
  h1 = (h1 + h2) & M
  h2 = (h2 + h1) & M
  h1 = fmix(h1)
  h2 = fmix(h2)
  h1 = (h1 + h2) & M
  h2 = (h2 + h1) & M
  const le = (x: bigint) => Array.from({length: 8}, (_, i) => ((x >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0')).join('')
  return le(h1) + le(h2)
}

/** The block loop's module (hash.ts BLOCKS_WASM, its text form there) assembled from its instructions, in hex. */
function assemble(): string {
  const uleb = (n: number): number[] => {
    const out: number[] = []
    do {
      let b = n & 0x7f
      n >>>= 7
      if (n !== 0) b |= 0x80
      out.push(b)
    } while (n !== 0)
    return out
  }
  const sleb = (n: bigint): number[] => {
    const out: number[] = []
    for (;;) {
      const b = Number(n & 0x7fn)
      n >>= 7n
      if ((n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0)) return [...out, b]
      out.push(b | 0x80)
    }
  }
  const section = (id: number, items: number[][]): number[] => {
    const body = [...uleb(items.length), ...items.flat()]
    return [id, ...uleb(body.length), ...body]
  }
  const [I32, I64] = [0x7f, 0x7e]
  const get = (i: number) => [0x20, i]
  const set = (i: number) => [0x21, i]
  const i64 = (n: bigint) => [0x42, ...sleb(BigInt.asIntN(64, n))]
  const [MUL, ADD, XOR, ROTL] = [0x7e, 0x7c, 0x85, 0x89]
  const load = (offset: number) => [0x29, 3, offset] // i64.load align=8
  const [END, P, H1, H2] = [0, 1, 2, 3] // the locals: $end, $p, $h1, $h2
  const [C1, C2] = [0x87c37b91114253d5n, 0x4cf5ad432745937fn]
  // h = rotl(h ^ rotl(k * a, r1) * b, r2) + other, then * 5 + add; k the i64 at $p + offset.
  const lane = (offset: number, a: bigint, r1: bigint, b: bigint, h: number, r2: bigint, other: number, add: bigint) => [
    ...get(P), ...load(offset), ...i64(a), MUL, ...i64(r1), ROTL, ...i64(b), MUL,
    ...get(h), XOR, ...i64(r2), ROTL, ...get(other), ADD, ...i64(5n), MUL, ...i64(add), ADD, ...set(h),
  ]
  const code = [
    ...[2, 1, I32, 2, I64], // locals: one i32, two i64
    0x23, 0, ...set(H1), 0x23, 1, ...set(H2), // global.get
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...get(P), ...get(END), 0x4f, 0x0d, 1, // i32.ge_u, br_if 1
    ...lane(0, C1, 31n, C2, H1, 27n, H2, 0x52dce729n),
    ...lane(8, C2, 33n, C1, H2, 31n, H1, 0x38495ab5n),
    ...get(P), 0x41, 16, 0x6a, ...set(P), // i32.add 16
    0x0c, 0, 0x0b, 0x0b, // br 0, end, end
    ...get(H1), 0x24, 0, ...get(H2), 0x24, 1, // global.set
    0x0b,
  ]
  const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s)]
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [[0x60, 1, I32, 0]]), // type (i32) -> ()
    ...section(3, [[0]]), // the function, of that type
    ...section(5, [[0, 1]]), // memory: at least one page
    ...section(6, [[I64, 1, ...i64(0n), 0x0b], [I64, 1, ...i64(0n), 0x0b]]), // two mutable i64 globals
    ...section(7, [[...name('m'), 2, 0], [...name('a'), 3, 0], [...name('b'), 3, 1], [...name('run'), 0, 0]]),
    ...section(10, [[...uleb(code.length), ...code]]),
  ]
  return Buffer.from(bytes).toString('hex')
}
