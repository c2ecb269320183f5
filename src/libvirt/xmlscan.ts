// What libxml2 does with a document before and beyond the element syntax
// fast-xml-parser checks, as libvirt parses (XML_PARSE_NONET, without
// XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_HUGE): the document type
// declaration's internal subset and its general entities (an external
// entity is declared but never loaded, so a reference to it in content
// adds nothing), the depth limit of 256, entity references that name no
// declared entity, and the decoding of references in text and attributes.

/** A general entity of the internal subset: its replacement text, or external (never loaded). */
export type Entity = {value: string} | {external: true}

/** The first error libxml2 stops at, with the offset its input was at. */
export interface ScanError {
  msg: string
  at: number
}

export interface Prolog {
  /** The text with the document type declaration blanked (spaces, newlines kept), so offsets stay. */
  text: string
  entities: Map<string, Entity>
}

/** xmlParserMaxDepth without XML_PARSE_HUGE. */
export const MAX_DEPTH = 256

const PREDEFINED: Record<string, string> = {lt: '<', gt: '>', amp: '&', quot: '"', apos: "'"}
const NAME = /[A-Za-z_:\u00C0-\uFFFF][-A-Za-z0-9._:\u00B7\u00C0-\uFFFF]*/y
const QUOTED = /"[^"]*"|'[^']*'/y

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  return i
}

function sticky(re: RegExp, text: string, i: number): string | null {
  re.lastIndex = i
  const m = re.exec(text)
  return m ? m[0] : null
}

/** Where the declaration or construct at i ends (after its '>'), quotes respected; -1 when it does not. */
function declEnd(text: string, i: number): number {
  let q = ''
  for (; i < text.length; i++) {
    const c = text[i]
    if (q) {
      if (c === q) q = ''
    } else if (c === '"' || c === "'") q = c
    else if (c === '>') return i + 1
  }
  return -1
}

/** One <!ENTITY ...> declaration at i: its end, and the general entity it declares (none for a parameter entity). */
function entityDecl(text: string, i: number): {end: number; name?: string; entity?: Entity} | null {
  let p = i + '<!ENTITY'.length
  const s = skipSpace(text, p)
  if (s === p) return null
  p = s
  let parameter = false
  if (text[p] === '%') {
    parameter = true
    const t = skipSpace(text, p + 1)
    if (t === p + 1) return null
    p = t
  }
  const name = sticky(NAME, text, p)
  if (!name) return null
  p = skipSpace(text, p + name.length)
  let entity: Entity
  const literal = sticky(QUOTED, text, p)
  if (literal) {
    entity = {value: literal.slice(1, -1)}
    p += literal.length
  } else {
    const kw = text.startsWith('SYSTEM', p) ? 'SYSTEM' : text.startsWith('PUBLIC', p) ? 'PUBLIC' : null
    if (!kw) return null
    p = skipSpace(text, p + kw.length)
    for (let n = kw === 'PUBLIC' ? 2 : 1; n > 0; n--) {
      const id = sticky(QUOTED, text, p)
      if (!id) return null
      p = skipSpace(text, p + id.length)
    }
    if (text.startsWith('NDATA', p)) {
      const t = skipSpace(text, p + 5)
      const nd = sticky(NAME, text, t)
      if (t === p + 5 || !nd) return null
      p = skipSpace(text, t + nd.length)
    }
    entity = {external: true}
  }
  p = skipSpace(text, p)
  if (text[p] !== '>') return null
  return parameter ? {end: p + 1} : {end: p + 1, name, entity}
}

/**
 * The document type declaration of the prolog, if any (xmlParseDocTypeDecl
 * and xmlParseInternalSubset): its general entities, the first declaration
 * of a name winning, and the text without it. The error libxml2 gives for
 * one that is not well formed.
 */
export function readProlog(text: string): Prolog | ScanError {
  const entities = new Map<string, Entity>()
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  for (;;) {
    i = skipSpace(text, i)
    if (text.startsWith('<?', i) || text.startsWith('<!--', i)) {
      const e = text.indexOf(text.startsWith('<?', i) ? '?>' : '-->', i + 2)
      if (e < 0) return {text, entities}
      i = e + (text.startsWith('<?', i) ? 2 : 3)
      continue
    }
    break
  }
  if (!text.startsWith('<!DOCTYPE', i)) return {text, entities}
  const start = i
  let p = skipSpace(text, i + '<!DOCTYPE'.length)
  const name = sticky(NAME, text, p)
  if (p === i + '<!DOCTYPE'.length || !name) return {msg: 'xmlParseDocTypeDecl : no DOCTYPE name !', at: p}
  p = skipSpace(text, p + name.length)
  for (const kw of ['SYSTEM', 'PUBLIC']) {
    if (!text.startsWith(kw, p)) continue
    p = skipSpace(text, p + kw.length)
    for (let n = kw === 'PUBLIC' ? 2 : 1; n > 0; n--) {
      const id = sticky(QUOTED, text, p)
      if (!id) return {msg: kw === 'SYSTEM' ? 'Space required after the SYSTEM identifier' : 'Space required after the Public Identifier', at: p}
      p = skipSpace(text, p + id.length)
    }
  }
  if (text[p] === '[') {
    p++
    for (;;) {
      p = skipSpace(text, p)
      if (p >= text.length) return {msg: 'DOCTYPE improperly terminated', at: text.length}
      if (text[p] === ']') break
      if (text.startsWith('<!--', p)) {
        const e = text.indexOf('-->', p + 4)
        if (e < 0) return {msg: 'Comment not terminated', at: p}
        p = e + 3
      } else if (text.startsWith('<?', p)) {
        const e = text.indexOf('?>', p + 2)
        if (e < 0) return {msg: 'ParsePI: PI xml never end ...', at: p}
        p = e + 2
      } else if (text.startsWith('<!ENTITY', p)) {
        const d = entityDecl(text, p)
        if (!d) return {msg: 'xmlParseInternalSubset: error detected in Markup declaration', at: p}
        if (d.name !== undefined && !entities.has(d.name) && !(d.name in PREDEFINED)) entities.set(d.name, d.entity!)
        p = d.end
      } else if (/^<!(ELEMENT|ATTLIST|NOTATION)\s/.test(text.slice(p, p + 11))) {
        const e = declEnd(text, p)
        if (e < 0) return {msg: 'xmlParseInternalSubset: error detected in Markup declaration', at: p}
        p = e
      } else if (text[p] === '%') {
        // A parameter-entity reference: not loaded without XML_PARSE_DTDLOAD.
        const n = sticky(NAME, text, p + 1)
        if (!n || text[p + 1 + n.length] !== ';') return {msg: 'PEReference: expecting \';\'', at: p + 1 + (n?.length ?? 0)}
        p += n.length + 2
      } else return {msg: 'xmlParseInternalSubset: error detected in Markup declaration', at: p}
    }
    p = skipSpace(text, p + 1)
  }
  if (text[p] !== '>') return {msg: 'DOCTYPE improperly terminated', at: p}
  const end = p + 1
  return {text: text.slice(0, start) + text.slice(start, end).replace(/[^\n]/g, ' ') + text.slice(end), entities}
}

/**
 * Past the prolog, the first error libxml2 stops at that fast-xml-parser
 * does not know: an element deeper than 256 (the parser halts at its
 * start tag), a reference to an entity not declared, a reference in an
 * attribute value to an external entity, a second document type
 * declaration. Null when there is none.
 */
export function scanBody(text: string, entities: ReadonlyMap<string, Entity>): ScanError | null {
  let depth = 0
  let rooted = false
  let i = 0
  // The first character XML does not allow (NUL, most C0 controls, U+FFFE/FFFF, a lone surrogate).
  BAD_CHAR.lastIndex = 0
  const bad = BAD_CHAR.exec(text)
  const badAt = bad ? bad.index : -1
  const cp = bad ? bad[0].codePointAt(0)! : 0
  const outOfRange = (): ScanError => ({msg: `Char 0x${cp.toString(16).toUpperCase()} out of allowed range`, at: badAt})
  const passes = (from: number, to: number): boolean => badAt >= from && badAt < to
  const ref = (at: number, inAttr: boolean): ScanError | null => {
    if (text[at + 1] === '#') return null
    const name = sticky(NAME, text, at + 1)
    if (!name || text[at + 1 + name.length] !== ';') return null
    const after = at + name.length + 2
    if (name in PREDEFINED) return null
    const e = entities.get(name)
    if (!e) return {msg: `Entity '${name}' not defined`, at: after}
    if (inAttr && 'external' in e) return {msg: `Attribute references external entity '${name}'`, at: after}
    return null
  }
  while (i < text.length) {
    const c = text[i]
    if (c === '&') {
      const r = ref(i, false)
      if (r) return r
      i++
      continue
    }
    if (c !== '<') {
      // Outside the root element the validator's "Start tag expected" or "Extra content" stands.
      if (i === badAt && depth > 0) return cp !== 0 ? {msg: `PCDATA invalid Char value ${cp}`, at: i} : outOfRange()
      i++
      continue
    }
    if (text.startsWith('<!--', i)) {
      const e = text.indexOf('-->', i + 4)
      if (passes(i, e < 0 ? text.length : e)) return outOfRange()
      i = e < 0 ? text.length : e + 3
    } else if (text.startsWith('<![CDATA[', i)) {
      const e = text.indexOf(']]>', i + 9)
      if (passes(i, e < 0 ? text.length : e)) return outOfRange()
      i = e < 0 ? text.length : e + 3
    } else if (text.startsWith('<?', i)) {
      const e = text.indexOf('?>', i + 2)
      if (passes(i, e < 0 ? text.length : e)) return outOfRange()
      i = e < 0 ? text.length : e + 2
    } else if (text.startsWith('<!', i)) {
      return depth > 0 || !rooted ? {msg: 'StartTag: invalid element name', at: i + 1} : {msg: 'Extra content at the end of the document', at: i}
    } else if (text.startsWith('</', i)) {
      depth--
      const e = text.indexOf('>', i)
      if (passes(i, e < 0 ? text.length : e)) return outOfRange()
      i = e < 0 ? text.length : e + 1
    } else {
      rooted = true
      if (depth >= MAX_DEPTH + 1) return {msg: `Excessive depth in document: ${MAX_DEPTH} use XML_PARSE_HUGE option`, at: i}
      let q = ''
      let j = i + 1
      for (; j < text.length; j++) {
        const ch = text[j]
        if (j === badAt) return q && cp !== 0 ? {msg: 'invalid character in attribute value', at: j} : outOfRange()
        if (q) {
          if (ch === q) q = ''
          else if (ch === '&') {
            const r = ref(j, true)
            if (r) return r
          }
        } else if (ch === '"' || ch === "'") q = ch
        else if (ch === '>') break
      }
      if (text[j - 1] !== '/') depth++
      i = j + 1
    }
  }
  return null
}

/** A character outside XML 1.0's Char production. */
const BAD_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

/** Bounds on what entity references may expand to (libxml2 refuses amplification). */
const MAX_EXPANSION = 10_000_000

/**
 * Text or an attribute value with its references replaced, as libxml2's
 * tree gives them to libvirt's XPath: the predefined and character
 * references, an internal entity's replacement text (its own references
 * replaced), nothing for an external entity (not loaded). A reference
 * scanBody let through is always declared.
 */
export function decode(s: string, entities: ReadonlyMap<string, Entity>, seen: readonly string[] = [], budget = {left: MAX_EXPANSION}): string {
  if (!s.includes('&')) return s
  return s.replace(/&(#x[0-9A-Fa-f]+|#[0-9]+|[^\s&;<>"']+);/g, (all, ref: string) => {
    let out: string
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)
      out = cp <= 0x10ffff ? String.fromCodePoint(cp) : all
    } else if (ref in PREDEFINED) out = PREDEFINED[ref]
    else {
      const e = entities.get(ref)
      if (e && seen.includes(ref)) throw new RangeError('entity loop')
      if (!e || 'external' in e) out = ''
      else out = decode(e.value, entities, [...seen, ref], budget)
    }
    budget.left -= out.length
    if (budget.left < 0) throw new RangeError('entity expansion')
    return out
  })
}
