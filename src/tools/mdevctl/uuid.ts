// The uuid crate's Uuid::parse_str, as clap's value parser and mdevctl's
// directory scans call it: the accepted forms and the crate's error texts.

const HEX = /^[0-9a-fA-F]$/
const HYPHENATED = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/** Uuid::parse_str: hyphenated, simple, braced or urn form in any case; the crate's error texts. */
export function parseUuid(s: string): {uuid: string} | {error: string} {
  // The hyphenated form, as every name of a scanned directory has it: ASCII, so its length is its byte length.
  if (s.length === 36 && HYPHENATED.test(s)) return {uuid: s.toLowerCase()}
  const len = Buffer.byteLength(s, 'utf8')
  let inner: string | null = null
  if (len === 32 && /^[0-9a-fA-F]{32}$/.test(s)) {
    const h = s.toLowerCase()
    return {uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`}
  }
  if (len === 36) inner = s
  else if (len === 38 && s.startsWith('{') && s.endsWith('}')) inner = s.slice(1, -1)
  else if (len === 45 && s.startsWith('urn:uuid:')) inner = s.slice(9)
  if (inner !== null && HYPHENATED.test(inner)) return {uuid: inner.toLowerCase()}
  // InvalidUuid::into_err
  let str = s
  let offset = 0
  let simple = true
  if (len >= 2 && s.startsWith('{') && s.endsWith('}')) {
    str = s.slice(1, -1)
    offset = 1
    simple = false
  } else if (s.startsWith('urn:uuid:')) {
    str = s.slice(9)
    offset = 9
    simple = false
  }
  let hyphens = 0
  const bounds = [0, 0, 0, 0]
  let idx = 0
  for (const ch of str) {
    if (ch.codePointAt(0)! > 0x7f) return {error: `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${ch}\` at ${idx + offset + 1}`}
    if (ch === '-') {
      if (hyphens < 4) bounds[hyphens] = idx
      hyphens++
    } else if (!HEX.test(ch)) return {error: `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${ch}\` at ${idx + offset + 1}`}
    idx += Buffer.byteLength(ch)
  }
  if (hyphens === 0 && simple) return {error: `invalid length: expected length 32 for simple format, found ${len}`}
  if (hyphens !== 4) return {error: `invalid group count: expected 5, found ${hyphens + 1}`}
  const starts = [0, 9, 14, 19, 24]
  const expected = [8, 4, 4, 4, 12]
  for (let i = 0; i < 4; i++)
    if (bounds[i] !== starts[i + 1] - 1) return {error: `invalid group length in group ${i}: expected ${expected[i]}, found ${bounds[i] - starts[i]}`}
  return {error: `invalid group length in group 4: expected 12, found ${len - starts[4]}`}
}
