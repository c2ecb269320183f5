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
// A text shorter than LARGE: two lanes of MurmurHash3's x86 32-bit mixing
// with different seeds, over the bytes read four at a time in the machine's
// byte order (a cache made on a machine of the other order is simply no
// cache), each finished with fmix32. A larger one (a host with a thousand
// mdevs: 830 KB) costs this hash, run cold in a new process, about 4 ms; Node's
// SHA-1 (native code) takes a fifth of that, and its module about 2 ms to
// load: it pays from LARGE on, and more when a mutation hashes a second text.
// The length alone chooses, so writer and reader agree, and a hash of one kind
// is never mistaken for the other's (SHA-1's is 40 hex digits, this one's 16).

import {createRequire} from 'node:module'

/** The length from which a text is hashed with SHA-1. */
export const LARGE = 256 * 1024

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

/** The hash of a text's UTF-8 bytes (or of the bytes as read): 16 hex digits, or SHA-1's 40 from LARGE bytes on. */
export function textHash(text: string | Uint8Array): string {
  let bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text
  if (bytes.length >= LARGE) return sha1(bytes)
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

/** SHA-1 of the bytes, as 40 hex digits: Node's crypto module is loaded only for a large text. */
function sha1(bytes: Uint8Array): string {
  const {createHash} = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')
  return createHash('sha1').update(bytes).digest('hex')
}
