// 256-bit AP masks (APM, AQM, ADM, apmask, aqmask) with the kernel's bit
// numbering: bit 0 is the leftmost bit, i.e. the most significant bit of the
// first of eight 32-bit words.

import {KernelError} from './errors.js'

export const MASK_BITS = 256

export class Mask {
  private constructor(private readonly w: Uint32Array) {}

  static empty(): Mask {
    return new Mask(new Uint32Array(8))
  }

  static full(): Mask {
    return new Mask(new Uint32Array(8).fill(0xffffffff))
  }

  static fromWords(w: Uint32Array): Mask {
    return new Mask(Uint32Array.from(w))
  }

  static of(bits: Iterable<number>): Mask {
    const w = new Uint32Array(8)
    for (const b of bits) {
      checkBit(b)
      w[b >>> 5] |= 0x80000000 >>> (b & 31)
    }
    return new Mask(w)
  }

  /** All bits from `lo` to `hi` inclusive. */
  static range(lo: number, hi: number): Mask {
    const w = new Uint32Array(8)
    if (hi < lo) return new Mask(w)
    checkBit(lo)
    checkBit(hi)
    // A word at a time: bit 0 is the most significant bit of the first word.
    for (let i = lo >>> 5; i <= hi >>> 5; i++) {
      const from = i === lo >>> 5 ? lo & 31 : 0
      const to = i === hi >>> 5 ? hi & 31 : 31
      w[i] = (0xffffffff >>> from) & ~(to === 31 ? 0 : 0xffffffff >>> (to + 1))
    }
    return new Mask(w)
  }

  has(bit: number): boolean {
    if (bit < 0 || bit >= MASK_BITS) return false
    return (this.w[bit >>> 5] & (0x80000000 >>> (bit & 31))) !== 0
  }

  with(bit: number): Mask {
    checkBit(bit)
    const w = this.w.slice()
    w[bit >>> 5] |= 0x80000000 >>> (bit & 31)
    return new Mask(w)
  }

  without(bit: number): Mask {
    checkBit(bit)
    const w = this.w.slice()
    w[bit >>> 5] &= ~(0x80000000 >>> (bit & 31))
    return new Mask(w)
  }

  // Plain loops over the eight words: a callback per word (map, every) cost
  // a new process's cold code several times more, and the rules ask these of
  // every mdev.
  and(o: Mask): Mask {
    const a = this.w
    const b = o.w
    const w = new Uint32Array(8)
    for (let i = 0; i < 8; i++) w[i] = a[i] & b[i]
    return new Mask(w)
  }

  or(o: Mask): Mask {
    const a = this.w
    const b = o.w
    const w = new Uint32Array(8)
    for (let i = 0; i < 8; i++) w[i] = a[i] | b[i]
    return new Mask(w)
  }

  andNot(o: Mask): Mask {
    const a = this.w
    const b = o.w
    const w = new Uint32Array(8)
    for (let i = 0; i < 8; i++) w[i] = a[i] & ~b[i]
    return new Mask(w)
  }

  /** Whether every bit of this one is in `o` (`andNot(o)` empty, without making it). */
  isSubsetOf(o: Mask): boolean {
    const a = this.w
    const b = o.w
    for (let i = 0; i < 8; i++) if ((a[i] & ~b[i]) !== 0) return false
    return true
  }

  /**
   * Every bit of any of them. The rules ask six unions of a thousand mdevs'
   * masks in a call, run by the interpreter: the words are ORed in locals,
   * eight statements rather than a loop of eight.
   */
  static union(masks: readonly Mask[]): Mask {
    let w0 = 0
    let w1 = 0
    let w2 = 0
    let w3 = 0
    let w4 = 0
    let w5 = 0
    let w6 = 0
    let w7 = 0
    let last: Mask | undefined
    for (let k = 0; k < masks.length; k++) {
      // Masks read from a state are shared by text: the same one again adds nothing.
      if (masks[k] === last) continue
      last = masks[k]
      const a = last.w
      w0 |= a[0]
      w1 |= a[1]
      w2 |= a[2]
      w3 |= a[3]
      w4 |= a[4]
      w5 |= a[5]
      w6 |= a[6]
      w7 |= a[7]
    }
    return new Mask(Uint32Array.of(w0, w1, w2, w3, w4, w5, w6, w7))
  }

  /** Whether the two have a bit in common (`and(o)` not empty, without making it). */
  intersects(o: Mask): boolean {
    const a = this.w
    const b = o.w
    for (let i = 0; i < 8; i++) if ((a[i] & b[i]) !== 0) return true
    return false
  }

  isEmpty(): boolean {
    const a = this.w
    for (let i = 0; i < 8; i++) if (a[i] !== 0) return false
    return true
  }

  equals(o: Mask): boolean {
    const a = this.w
    const b = o.w
    for (let i = 0; i < 8; i++) if (a[i] !== b[i]) return false
    return true
  }

  /** Set bits in ascending order. */
  bits(): number[] {
    const out: number[] = []
    for (let i = 0; i < 8; i++) {
      // From the leftmost set bit to the next, not through all 32.
      let x = this.w[i]
      while (x !== 0) {
        const j = Math.clz32(x)
        out.push(i * 32 + j)
        x = (x & ~(0x80000000 >>> j)) >>> 0
      }
    }
    return out
  }

  count(): number {
    return this.bits().length
  }

  /** 64 lower-case hex digits, no prefix (apmask, ap_*_mask, ap_config). */
  hex(): string {
    let s = ''
    for (const x of this.w) s += x.toString(16).padStart(8, '0')
    return s
  }

  /** The sysfs text of a bus mask attribute, without the newline. */
  toString(): string {
    return '0x' + this.hex()
  }
}

function checkBit(b: number): void {
  if (!Number.isInteger(b) || b < 0 || b >= MASK_BITS) throw new RangeError(`bit ${b} out of range`)
}

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c)

/**
 * The kernel's absolute hex form (ap_hex2bitmap): optional `0x` (or bare `x`),
 * up to 64 hex digits filling the mask from bit 0, padded with zeros on the
 * right, one optional trailing newline. Empty input is the empty mask.
 */
export function parseHexMask(str: string): Mask {
  let p = 0
  if (str[0] === '0' && str[1] === 'x') p++
  if (str[p] === 'x') p++
  const w = new Uint32Array(8)
  let i = 0
  for (; isHex(str[p]) && i < MASK_BITS; p++) {
    const v = parseInt(str[p], 16)
    for (let n = 0; n < 4; n++) if (v & (0x08 >> n)) w[(i + n) >>> 5] |= 0x80000000 >>> ((i + n) & 31)
    i += 4
  }
  if (str[p] === '\n') p++
  if (p < str.length) throw new KernelError('EINVAL')
  return Mask.fromWords(w)
}

/**
 * The kernel's relative form (modify_bitmap): terms `+N`, `-N`, `+N-M`, `-N-M`
 * separated by runs of `,` and newlines, applied in order onto `base`.
 */
export function applyMaskEdits(base: Mask, str: string): Mask {
  let m = base
  let p = 0
  while (p < str.length) {
    const sign = str[p++]
    if (sign !== '+' && sign !== '-') throw new KernelError('EINVAL')
    const a = simpleStrtoul(str, p)
    if (a.end === p || a.value >= MASK_BITS) throw new KernelError('EINVAL')
    p = a.end
    let z = a.value
    if (str[p] === '-') {
      p++
      const b = simpleStrtoul(str, p)
      if (b.end === p || a.value > b.value || b.value >= MASK_BITS) throw new KernelError('EINVAL')
      z = b.value
      p = b.end
    }
    for (let i = a.value; i <= z; i++) m = sign === '+' ? m.with(i) : m.without(i)
    while (str[p] === ',' || str[p] === '\n') p++
  }
  return m
}

/** ap_parse_mask_str: the first character decides between edit and replace. */
export function parseMaskWrite(current: Mask, str: string): Mask {
  return str[0] === '+' || str[0] === '-' ? applyMaskEdits(current, str) : parseHexMask(str)
}

/** Radix detection shared by simple_strtoul and kstrtoul (base 0). */
function fixupRadix(s: string, p: number): {base: number; p: number} {
  if (s[p] === '0') {
    if ((s[p + 1] === 'x' || s[p + 1] === 'X') && isHex(s[p + 2])) return {base: 16, p: p + 2}
    return {base: 8, p}
  }
  return {base: 10, p}
}

function digitValue(c: string | undefined): number {
  if (c === undefined) return 99
  const v = parseInt(c, 36)
  return Number.isNaN(v) ? 99 : v
}

/** The kernel's simple_strtoul(s, &end, 0): no sign, no blanks, no errors; it wraps silently past 2^64. */
export function simpleStrtoul(s: string, start: number): {value: number; end: number} {
  const {base, p: p0} = fixupRadix(s, start)
  let p = p0
  let value = 0n
  while (digitValue(s[p]) < base) {
    value = (value * BigInt(base) + BigInt(digitValue(s[p]))) & 0xffffffffffffffffn
    p++
  }
  return {value: Number(value), end: p}
}

/**
 * The kernel's kstrtoul(buf, 0, &val): optional `+`, radix from the prefix,
 * digits, one optional newline, nothing else. EINVAL for junk, ERANGE on
 * overflow of an unsigned long.
 */
export function kstrtoul(buf: string): bigint {
  let p = 0
  if (buf[0] === '+') p++
  const {base, p: p0} = fixupRadix(buf, p)
  p = p0
  let v = 0n
  let n = 0
  while (digitValue(buf[p]) < base) {
    v = v * BigInt(base) + BigInt(digitValue(buf[p]))
    if (v > 0xffffffffffffffffn) throw new KernelError('ERANGE')
    p++
    n++
  }
  if (n === 0) throw new KernelError('EINVAL')
  if (buf[p] === '\n') p++
  if (p !== buf.length) throw new KernelError('EINVAL')
  return v
}

/** The kernel's kstrtobool: y/Y/1/on true, n/N/0/off false. */
export function kstrtobool(buf: string): boolean {
  const c = buf[0]
  if (c === 'y' || c === 'Y' || c === '1') return true
  if (c === 'n' || c === 'N' || c === '0') return false
  if (c === 'o' || c === 'O') {
    const d = buf[1]
    if (d === 'n' || d === 'N') return true
    if (d === 'f' || d === 'F') return false
  }
  throw new KernelError('EINVAL')
}

/**
 * sscanf(buf, "%d\n") / "%i\n" as the kernel's store functions use it:
 * leading blanks, an optional sign, digits (base 10, or auto for %i). Returns
 * null when no number could be converted. Trailing text is ignored.
 */
export function kscanInt(buf: string, auto = false): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(.*)$/s.exec(buf)!
  const sign = m[1] === '-' ? -1 : 1
  const rest = m[2]
  let base = 10
  let p = 0
  if (auto) {
    const r = fixupRadix(rest, 0)
    base = r.base
    p = r.p
  }
  const start = p
  let v = 0
  while (digitValue(rest[p]) < base) v = v * base + digitValue(rest[p++])
  if (p === start) return null
  return sign * v
}

/** Compact, readable form used in the state file: `0x00-0x54,0xab`. */
export function formatRanges(m: Mask): string {
  const bits = m.bits()
  const parts: string[] = []
  for (let i = 0; i < bits.length; ) {
    let j = i
    while (j + 1 < bits.length && bits[j + 1] === bits[j] + 1) j++
    const h = (n: number) => '0x' + n.toString(16).padStart(2, '0')
    parts.push(i === j ? h(bits[i]) : `${h(bits[i])}-${h(bits[j])}`)
    i = j + 1
  }
  return parts.join(',')
}

/** Inverse of formatRanges; accepts decimal or 0x hex numbers. Throws Error on junk. */
export function parseRanges(s: string): Mask {
  const bits: number[] = []
  const text = s.trim()
  if (text === '') return Mask.empty()
  for (const part of text.split(',')) {
    const m = /^\s*(0x[0-9a-f]+|\d+)\s*(?:-\s*(0x[0-9a-f]+|\d+)\s*)?$/i.exec(part)
    if (!m) throw new Error(`'${part.trim()}' is not a number or a range`)
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (lo > hi) throw new Error(`range '${part.trim()}' is reversed`)
    if (hi >= MASK_BITS) throw new Error(`${hi} is above 255`)
    for (let i = lo; i <= hi; i++) bits.push(i)
  }
  return Mask.of(bits)
}
