// The hash that ties the state's cache to the text it was made from.
//
// It tells whether the state file still holds the text the cache was made
// from: a hand edit must never be read through the cache. It need not stand
// up to an adversary (whoever can write the state can write its cache, which
// is trusted only when it belongs to the state's owner), only to chance, so a
// 64-bit hash with the text's length beside it does. SHA-256 did the same
// job, but loading Node's crypto module cost a call of a drop-in more than
// the rest of reading a default host's state.
//
// It is MurmurHash3_x64_128, whose loop of 16 bytes a step runs as a few
// lines of WebAssembly made here (V8 compiles them at once; no JavaScript
// loop gets that fast before the text is done), seed S1, its 16 bytes as
// hex: 32 digits. A big host's 830 KB, and its cache, cost a JavaScript
// hash run cold about 4 ms, and Node's SHA-1 about 5 (its module and the
// modules it loads); a default host's few KB cost it half a millisecond
// each and 3 MB of memory (V8 compiled the mixing optimized in every call),
// where the module costs a fifth of a millisecond once. Where WebAssembly is
// off (node --jitless), a text is hashed with two lanes of MurmurHash3's
// x86 32-bit mixing with different seeds, over the bytes read four at a
// time in the machine's byte order (a cache made on a machine of the other
// order is simply no cache), each finished with fmix32: 16 hex digits, and
// a cache written the other way is no cache.

const C1 = 0xcc9e2d51
const C2 = 0x1b873593

const S1 = 0x9747b28c
const S2 = 0x5bd1e995

/** MurmurHash3's block step: the word mixed into h. */
function mix(h: number, word: number): number {
  let k = Math.imul(word, C1)
  k = (k << 15) | (k >>> 17)
  h ^= Math.imul(k, C2)
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

/** MurmurHash3's tail and finish. */
function finish(h: number, tail: Uint8Array, length: number): number {
  let k = 0
  for (let i = tail.length - 1; i >= 0; i--) k = (k << 8) | tail[i]
  if (tail.length > 0) {
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    h ^= Math.imul(k, C2)
  }
  h ^= length
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Whether MurmurHash3_x64_128 can run here (WebAssembly). */
function blocksRun(): boolean {
  blocks ??= makeBlocks()
  return blocks !== null
}

/** The hash of a text's UTF-8 bytes (or of the bytes as read): MurmurHash3_x64_128, else `lanes`. */
export function textHash(text: string | Uint8Array): string {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text
  return x64(bytes) ?? lanes(bytes)
}

/** Two lanes of MurmurHash3 x86_32 (seeds S1 and S2): 16 hex digits, the first 8 MurmurHash3_x86_32's. */
export function lanes(of: Uint8Array): string {
  let bytes = of
  const whole = bytes.length & ~3
  // A Uint32Array over the bytes needs them aligned to 4: a Buffer from Node's pool may not be.
  if (bytes.byteOffset % 4 !== 0) bytes = Uint8Array.prototype.slice.call(bytes)
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, whole / 4)
  const tail = bytes.subarray(whole)
  // Both lanes in one pass over the words.
  let h1 = S1
  let h2 = S2
  for (let i = 0; i < words.length; i++) {
    h1 = mix(h1, words[i])
    h2 = mix(h2, words[i])
  }
  const hex = (n: number): string => n.toString(16).padStart(8, '0')
  return hex(finish(h1, tail, bytes.length)) + hex(finish(h2, tail, bytes.length))
}

// --- MurmurHash3_x64_128 -----------------------------------------------------------

const M64 = (1n << 64n) - 1n
const K1 = 0x87c37b91114253d5n
const K2 = 0x4cf5ad432745937fn
const mul64 = (a: bigint, b: bigint): bigint => (a * b) & M64
const rotl64 = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M64
const fmix64 = (k: bigint): bigint => {
  k ^= k >> 33n
  k = mul64(k, 0xff51afd7ed558ccdn)
  k ^= k >> 33n
  k = mul64(k, 0xc4ceb9fe1a85ec53n)
  return k ^ (k >> 33n)
}

// What is used of WebAssembly's JavaScript API (the project's type library declares none of it).
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
interface WasmGlobal {
  value: unknown
}
interface Wasm {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => {exports: unknown}
}

/** The block loop in WebAssembly: its memory, the two lanes, and run(end) over the bytes 0..end. */
interface Blocks {
  memory: WasmMemory
  h1: WasmGlobal
  h2: WasmGlobal
  run: (end: number) => void
}

let blocks: Blocks | null | undefined

/**
 * MurmurHash3_x64_128 of the bytes with seed S1, as its 16 bytes (h1 then
 * h2, each little-endian) in hex; null where WebAssembly cannot run.
 */
export function x64(bytes: Uint8Array): string | null {
  blocks ??= makeBlocks()
  if (blocks === null) return null
  const n = bytes.length
  const whole = n - (n % 16)
  const {memory, h1: g1, h2: g2, run} = blocks
  const pages = Math.ceil(whole / 65536) - memory.buffer.byteLength / 65536
  try {
    if (pages > 0) memory.grow(pages)
  } catch {
    // No memory for it: the lanes (a cache hashed so is simply no cache to a reader with the memory).
    return null
  }
  new Uint8Array(memory.buffer, 0, whole).set(bytes.subarray(0, whole))
  g1.value = BigInt(S1)
  g2.value = BigInt(S1)
  run(whole)
  let h1 = BigInt.asUintN(64, g1.value as bigint)
  let h2 = BigInt.asUintN(64, g2.value as bigint)
  // The tail, then the finish, as the reference's.
  let k1 = 0n
  let k2 = 0n
  for (let i = n - 1; i >= whole + 8; i--) k2 = (k2 << 8n) | BigInt(bytes[i])
  for (let i = Math.min(n, whole + 8) - 1; i >= whole; i--) k1 = (k1 << 8n) | BigInt(bytes[i])
  if (n - whole > 8) h2 ^= mul64(rotl64(mul64(k2, K2), 33n), K1)
  if (n - whole > 0) h1 ^= mul64(rotl64(mul64(k1, K1), 31n), K2)
  h1 ^= BigInt(n)
  h2 ^= BigInt(n)
  h1 = (h1 + h2) & M64
  h2 = (h2 + h1) & M64
  h1 = fmix64(h1)
  h2 = fmix64(h2)
  h1 = (h1 + h2) & M64
  h2 = (h2 + h1) & M64
  return littleEndian(h1) + littleEndian(h2)
}

function littleEndian(x: bigint): string {
  let s = ''
  for (let i = 0n; i < 64n; i += 8n) s += ((x >> i) & 0xffn).toString(16).padStart(2, '0')
  return s
}

/**
 * The module of the block loop (test/state/hash.test.ts assembles it from
 * its instructions and holds it to these bytes). Its text form:
 *
 *   (module
 *     (memory (export "m") 1)
 *     (global (export "a") (mut i64) (i64.const 0))   ;; h1
 *     (global (export "b") (mut i64) (i64.const 0))   ;; h2
 *     (func (export "run") (param $end i32) (local $p i32) (local $h1 i64) (local $h2 i64)
 *       (local.set $h1 (global.get 0)) (local.set $h2 (global.get 1))
 *       (block (loop
 *         (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
 *         ;; h1 = rotl(h1 ^ rotl(k1 * c1, 31) * c2, 27) + h2, then * 5 + 0x52dce729
 *         ;; h2 = rotl(h2 ^ rotl(k2 * c2, 33) * c1, 31) + h1, then * 5 + 0x38495ab5
 *         ;; (k1, k2: the i64 at $p and at $p + 8)
 *         (local.set $p (i32.add (local.get $p) (i32.const 16)))
 *         (br 0)))
 *       (global.set 0 (local.get $h1)) (global.set 1 (local.get $h2))))
 */
export const BLOCKS_WASM =
  '0061736d0100000001050160017f00030201000503010001060b027e0142000b7e0142000b071304016d020001610300016203010372756e00000a990101960102017f027e230021022301210302400340200120004f0d01200129030042d5a7898a91f2dee1877f7e421f8942ffa696bab2a8ebfacc007e200285421b8920037c42057e42a9cef396057c2102200129030842ffa696bab2a8ebfacc007e42218942d5a7898a91f2dee1877f7e200385421f8920027c42057e42b5b5a5c2037c2103200141106a21010c000b0b20022400200324010b'

function makeBlocks(): Blocks | null {
  const W = (globalThis as {WebAssembly?: Wasm}).WebAssembly
  if (W === undefined) return null
  try {
    const e = new W.Instance(new W.Module(Buffer.from(BLOCKS_WASM, 'hex'))).exports as {m: WasmMemory; a: WasmGlobal; b: WasmGlobal; run: (end: number) => void}
    return {memory: e.m, h1: e.a, h2: e.b, run: e.run}
  } catch {
    return null
  }
}


/**
 * The hash of a state cache's body (all after its head, cache.ts): as
 * textHash; where WebAssembly is off, one lane of MurmurHash3's 32-bit
 * mixing (seed S1), 8 hex digits, with the mixing written out in the loop
 * (through `mix`, the text's hash and then this one made V8 compile `mix`
 * optimized in every call). A body is hashed only to tell a hand or a fault
 * on the cache from what aplab wrote, by chance, as the text's hash is.
 */
export function bodyHash(bytes: Uint8Array): string {
  const wide = x64(bytes)
  if (wide !== null) return wide
  let b = bytes
  const whole = b.length & ~3
  if (b.byteOffset % 4 !== 0) b = Uint8Array.prototype.slice.call(b)
  const words = new Uint32Array(b.buffer, b.byteOffset, whole / 4)
  let h = S1
  for (let i = 0; i < words.length; i++) {
    let k = Math.imul(words[i], C1)
    k = (k << 15) | (k >>> 17)
    h ^= Math.imul(k, C2)
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  return finish(h, b.subarray(whole), b.length).toString(16).padStart(8, '0')
}

/** The number of hex digits of bodyHash: 32, or 8 where WebAssembly is off. */
export function bodyHashLength(): number {
  return blocksRun() ? 32 : 8
}
