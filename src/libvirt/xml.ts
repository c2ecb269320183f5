// XML as libvirt reads and writes it: documents parsed with fast-xml-parser
// into a small element tree, documents that are not well formed refused
// with libxml2's message in libvirt's frame (virxml.c catchXMLError), and
// elements formatted as libvirt's virBuffer/virXMLFormatElement do:
// two-space indentation, attributes in single quotes, `<x/>` when empty.

import {createRequire} from 'node:module'

import {VirError} from './errors.js'
import {type Entity, MAX_DEPTH, decode, readProlog, scanBody} from './xmlscan.js'

type Fxp = typeof import('fast-xml-parser')
let fxp: Fxp | undefined
/**
 * fast-xml-parser, loaded when a document is first parsed: its modules
 * build their tables of XML's name characters when loaded (1.3 ms), which
 * virsh list, dominfo and domstate never need. In the bundles (the build
 * defines __APLAB_BUNDLE), `require` is the bundle's: esbuild bundles the
 * module, run at this call. In an ES module (tsc's output, the library) it
 * is resolved from this file, whatever global `require` a caller's
 * `node -e` has.
 */
const xmlParser = (): Fxp =>
  (fxp ??= typeof __APLAB_BUNDLE === 'boolean' ? (require('fast-xml-parser') as Fxp) : (createRequire(import.meta.url)('fast-xml-parser') as Fxp))

declare const __APLAB_BUNDLE: boolean | undefined

export interface XElement {
  name: string
  attrs: Record<string, string>
  children: XElement[]
  /** The element's own text (its text nodes joined), untrimmed. */
  text: string
  /** Its string value (XPath string()): the text of the element and its descendants in document order. */
  value: string
}

/** The context names libvirt gives libxml2 (virXMLParse's url). */
export type XmlContext = '(domain_definition)' | '(device_definition)' | '(node_device_definition)'

type Ordered = Record<string, unknown> & {':@'?: Record<string, string>}

/**
 * Names reach fast-xml-parser with this prefix and leave it without:
 * `__proto__` and `constructor` are names like any other to libxml2.
 */
const MARK = '\u0001'
/** A name as the document has it (fast-xml-parser may transform a name twice; no XML name has U+0001). */
const unmark = (k: string): string => k.replace(/^\u0001+/, '')

function toElement(node: Ordered, entities: ReadonlyMap<string, Entity>): XElement | null {
  const key = Object.keys(node).find((k) => k !== ':@')
  if (key === undefined || !key.startsWith(MARK)) return null
  const kids = (node[key] as Ordered[]) ?? []
  // No prototype: an attribute may be named __proto__.
  const attrs = Object.create(null) as Record<string, string>
  for (const [k, v] of Object.entries(node[':@'] ?? {})) attrs[unmark(k)] = decode(String(v), entities)
  const el: XElement = {name: unmark(key), attrs, children: [], text: '', value: ''}
  for (const k of kids) {
    if ('#text' in k) {
      const t = decode(String(k['#text']), entities)
      el.text += t
      el.value += t
    } else {
      const c = toElement(k, entities)
      if (c) {
        el.children.push(c)
        el.value += c.value
      }
    }
  }
  return el
}

const lineOf = (text: string, pos: number): number => text.slice(0, pos).split('\n').length

/** Position (offset) of line L, column C (both 1-based) as fast-xml-parser counts them. */
function offsetOf(text: string, line: number, col: number): number {
  let p = 0
  for (let l = 1; l < line; l++) {
    const n = text.indexOf('\n', p)
    if (n < 0) return text.length
    p = n + 1
  }
  return Math.min(text.length, p + Math.max(0, col - 1))
}

/** libvirt's catchXMLError frame: "URL:LINE: MESSAGE\nCONTEXT\n----^" around the parser's position. */
function detail(url: XmlContext, text: string, line: number, msg: string, cur: number): VirError {
  let c = cur
  const at = (i: number): string => (i < text.length ? text[i] : '\0')
  while (c > 0 && (at(c) === '\n' || at(c) === '\r')) c--
  while (c > 0 && at(c) !== '\n' && at(c) !== '\r') c--
  if (at(c) === '\n' || at(c) === '\r') c++
  const col = cur - c
  let context = ''
  while (c < text.length && text[c] !== '\n' && text[c] !== '\r') context += text[c++]
  let pointer = ''
  for (let n = 0; n < col && n < context.length; n++) pointer += context[n] === '\t' ? '\t' : '-'
  return new VirError('XML_DETAIL', `${url}:${line}: ${msg}\n${context}\n${pointer}^`)
}

/** The libxml2 error a document that is not well formed gets (the first one, as libvirt reports only that). */
function notWellFormed(url: XmlContext, text: string, err: {msg: string; line: number; col?: number}): VirError {
  const eofLine = text.split('\n').length
  const m = (re: RegExp): RegExpExecArray | null => re.exec(err.msg)
  let r: RegExpExecArray | null
  if ((r = m(/^Unclosed tag '([^']*)'/))) {
    const open = offsetOf(text, err.line, err.col ?? 1)
    const startEnded = text.indexOf('>', open) >= 0
    return startEnded
      ? detail(url, text, eofLine, `Premature end of data in tag ${r[1]} line ${err.line}`, text.length)
      : detail(url, text, eofLine, `Couldn't find end of Start Tag ${r[1]} line ${err.line}`, text.length)
  }
  if ((r = m(/^Expected closing tag '([^']*)' \(opened in line (\d+)[^)]*\) instead of closing tag '([^']*)'/))) {
    const p = offsetOf(text, err.line, err.col ?? 1)
    const gt = text.indexOf('>', p)
    return detail(url, text, err.line, `Opening and ending tag mismatch: ${r[1]} line ${r[2]} and ${r[3]}`, gt < 0 ? text.length : gt + 1)
  }
  if (m(/^Closing tag '[^']*' has not been opened/)) {
    const p = offsetOf(text, err.line, err.col ?? 1)
    const hasRoot = /<[A-Za-z_]/.test(text.slice(0, p))
    return hasRoot
      ? detail(url, text, err.line, 'Extra content at the end of the document', p)
      : detail(url, text, err.line, "Start tag expected, '<' not found", p)
  }
  if ((r = m(/^Attribute '([^']*)' is repeated/))) {
    const p = offsetOf(text, err.line, err.col ?? 1)
    return detail(url, text, err.line, `Attribute ${r[1]} redefined`, p)
  }
  if ((r = m(/^Attribute '([^']*)' is without value/))) {
    const p = offsetOf(text, err.line, err.col ?? 1)
    const eq = text.indexOf('=', p)
    return detail(url, text, err.line, `AttValue: " or ' expected`, eq < 0 ? p : eq + 1)
  }
  if ((r = m(/^boolean attribute '([^']*)' is not allowed/))) {
    const p = offsetOf(text, err.line, err.col ?? 1)
    return detail(url, text, err.line, `Specification mandates value for attribute ${r[1]}`, p + r[1].length)
  }
  if (text.trim() === '') return detail(url, text, 1, 'Document is empty', 0)
  const p = offsetOf(text, err.line, err.col ?? 1)
  if (!/<[A-Za-z_]/.test(text.slice(0, p + 1))) return detail(url, text, lineOf(text, p), "Start tag expected, '<' not found", p)
  return detail(url, text, err.line, err.msg.replace(/\.$/, ''), p)
}

/** Where the second top-level element of a well-formed document starts (libxml2 stops there). */
function secondRoot(text: string): number {
  let depth = 0
  let seen = false
  let i = 0
  const skipTo = (end: string): void => {
    const e = text.indexOf(end, i)
    i = e < 0 ? text.length : e + end.length
  }
  while (i < text.length) {
    if (text[i] !== '<') {
      i++
      continue
    }
    if (text.startsWith('<!--', i)) skipTo('-->')
    else if (text.startsWith('<?', i)) skipTo('?>')
    else if (text.startsWith('<!', i)) skipTo('>')
    else if (text.startsWith('</', i)) {
      depth--
      skipTo('>')
    } else {
      if (depth === 0 && seen) return i
      seen = true
      const start = i
      let quote = ''
      for (i++; i < text.length; i++) {
        const c = text[i]
        if (quote) {
          if (c === quote) quote = ''
        } else if (c === '"' || c === "'") quote = c
        else if (c === '>') break
      }
      if (text[i - 1] !== '/' || i === start + 1) depth++
      i++
    }
  }
  return text.length
}

/**
 * Parse a document into its root element, or throw libvirt's error for one
 * that is not well formed (VIR_ERR_XML_DETAIL).
 */
export function parseXml(text: string, url: XmlContext): XElement {
  if (text.trim() === '') throw detail(url, text, 1, 'Document is empty', 0)
  const prolog = readProlog(text)
  if ('msg' in prolog) throw detail(url, text, lineOf(text, prolog.at), prolog.msg, prolog.at)
  const body = prolog.text
  // The first error in document order: fast-xml-parser's, or one only libxml2 knows.
  const {XMLParser, XMLValidator} = xmlParser()
  const v = XMLValidator.validate(body, {allowBooleanAttributes: false})
  const late = scanBody(body, prolog.entities)
  if (late && (v === true || late.at <= offsetOf(body, v.err.line, v.err.col ?? 1))) throw detail(url, text, lineOf(text, late.at), late.msg, late.at)
  if (v !== true) throw notWellFormed(url, text, v.err)
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    processEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    maxNestedTags: MAX_DEPTH + 2,
    transformTagName: (n) => MARK + n,
    transformAttributeName: (n) => MARK + n,
  })
  let roots: XElement[]
  try {
    roots = (parser.parse(body) as Ordered[]).map((n) => toElement(n, prolog.entities)).filter((e): e is XElement => e !== null)
  } catch (e) {
    // What the checks above let through and fast-xml-parser still refuses,
    // or entities that expand without end: libvirt's words for a document
    // libxml2 gives no tree for.
    if (e instanceof Error) throw new VirError('XML_ERROR', 'failed to parse xml document')
    throw e
  }
  if (roots.length === 0) throw detail(url, text, 1, "Start tag expected, '<' not found", 0)
  if (roots.length > 1) {
    const at = secondRoot(text)
    throw detail(url, text, lineOf(text, at), 'Extra content at the end of the document', at)
  }
  return roots[0]
}

export const child = (el: XElement, name: string): XElement | undefined => el.children.find((c) => c.name === name)
export const children = (el: XElement, name: string): XElement[] => el.children.filter((c) => c.name === name)

// ---------------------------------------------------------------------------
// Formatting

const escAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;')
/** virBufferEscapeString: the five XML characters as entities; control characters other than tab, newline and carriage return dropped. */
export const escapeString = (s: string): string =>
  s.replace(/[<>&"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => ({'<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;'})[c] ?? '')
const escText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** An element to format: attributes in order, and either text or child elements. */
export interface Out {
  name: string
  attrs?: Array<[string, string | number | undefined]>
  text?: string
  children?: Out[]
  /** Start and end tag even without children (an element libvirt writes as two literal lines). */
  open?: boolean
  /** Attribute values as they are (printed with virBufferAsprintf, not escaped). */
  raw?: boolean
  /** The text is escaped already (escapeString). */
  rawText?: boolean
}

export const el = (name: string, attrs: Out['attrs'] = [], children: Out[] = []): Out => ({name, attrs, children})
export const textEl = (name: string, text: string | number, attrs: Out['attrs'] = []): Out => ({name, attrs, text: String(text)})

/** The element tree as libvirt formats it, one element per line, ending with a newline. */
export function formatXml(root: Out, indent = 0): string {
  const pad = ' '.repeat(indent)
  const attrs = (root.attrs ?? [])
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}='${root.raw ? String(v) : escAttr(String(v))}'`)
    .join('')
  if (root.text !== undefined) return `${pad}<${root.name}${attrs}>${root.rawText ? root.text : escText(root.text)}</${root.name}>\n`
  const kids = root.children ?? []
  if (kids.length === 0 && !root.open) return `${pad}<${root.name}${attrs}/>\n`
  return `${pad}<${root.name}${attrs}>\n${kids.map((k) => formatXml(k, indent + 2)).join('')}${pad}</${root.name}>\n`
}

/** An element read from a document, to be written back as it came (for parts aplab does not model). */
export function fromParsed(e: XElement): Out {
  const attrs = Object.entries(e.attrs)
  if (e.children.length === 0 && e.text.trim() !== '') return {name: e.name, attrs, text: e.text.trim()}
  return {name: e.name, attrs, children: e.children.map(fromParsed)}
}
