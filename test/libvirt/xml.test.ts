// Hostile XML given to virsh: documents nested deeper than libxml2 goes,
// document type declarations with entities (external ones are never
// loaded), references to entities nobody declared, and a few hundred
// random mutations of real definitions. Every one gets libvirt's error
// (an `error:` line, exit 1) or is taken; none is an internal error.

import {describe, expect, it} from 'vitest'

import {Lab, U, domainXml, hostdevXml} from './lab.js'

const FAIL = (stderr: string) => ({stdout: '\n', stderr, code: 1})
const HUGE = 'Excessive depth in document: 256 use XML_PARSE_HUGE option'

const nodedevXml = `<device>
  <parent>ap_matrix</parent>
  <capability type='mdev'>
    <type id='vfio_ap-passthrough'/>
    <uuid>33333333-3333-4333-8333-333333333333</uuid>
    <attr name='assign_adapter' value='0x05'/>
  </capability>
</device>
`

/** Each command that reads an XML file, with what virsh says before libvirt's error, and the parser's context. */
const READERS: Array<{args: string[]; head: string; url: string}> = [
  {args: ['define', 'x.xml'], head: 'Failed to define domain from x.xml', url: '(domain_definition)'},
  {args: ['define', '--validate', 'x.xml'], head: 'Failed to define domain from x.xml', url: '(domain_definition)'},
  {args: ['attach-device', 'guest1', 'x.xml', '--config'], head: 'Failed to attach device from x.xml', url: '(device_definition)'},
  {args: ['detach-device', 'guest1', 'x.xml', '--config'], head: 'Failed to detach device from x.xml', url: '(device_definition)'},
  {args: ['nodedev-define', 'x.xml'], head: "Failed to define node device from 'x.xml'", url: '(node_device_definition)'},
  {args: ['nodedev-create', 'x.xml'], head: 'Failed to create node device from x.xml', url: '(node_device_definition)'},
]

async function lab(): Promise<Lab> {
  const l = await Lab.create()
  l.files['guest1.xml'] = domainXml({hostdevs: []})
  await l.ok('define', 'guest1.xml')
  return l
}

/** virsh with FILE x.xml holding `text`: the result, the state unchanged when it fails. */
async function withFile(l: Lab, text: string, args: string[]) {
  l.files['x.xml'] = text
  const before = l.state
  const r = await l.virsh(...args)
  if (r.code !== 0) expect(l.state).toBe(before)
  return r
}

describe('nesting deeper than libxml2 parses without XML_PARSE_HUGE', () => {
  it('the 258th nested element is refused at its start tag; 257 are parsed', async () => {
    const l = await lab()
    const nest = (n: number) => "<domain type='kvm'>\n" + '<a>\n'.repeat(n - 1) + '</a>\n'.repeat(n - 1) + '</domain>\n'
    expect(await withFile(l, nest(258), ['define', 'x.xml'])).toEqual(FAIL(`error: Failed to define domain from x.xml\nerror: (domain_definition):258: ${HUGE}\n<a>\n^\n`))
    // 257 deep is well formed: libvirt goes on to read it (it has no name).
    expect(await withFile(l, nest(257), ['define', 'x.xml'])).toEqual(FAIL('error: Failed to define domain from x.xml\nerror: missing name information\n'))
    // The first error in document order wins: a mismatch before the depth, or the depth before a mismatch.
    const early = '<domain>\n<b></c>\n' + '<a>\n'.repeat(300)
    expect(await withFile(l, early, ['define', 'x.xml'])).toEqual(FAIL('error: Failed to define domain from x.xml\nerror: (domain_definition):2: Opening and ending tag mismatch: b line 2 and c\n<b></c>\n-------^\n'))
    const late = '<domain>\n' + '<a>\n'.repeat(300) + '<b></c>\n'
    expect(await withFile(l, late, ['define', 'x.xml'])).toEqual(FAIL(`error: Failed to define domain from x.xml\nerror: (domain_definition):258: ${HUGE}\n<a>\n^\n`))
  })

  it.each(READERS)('100,000 levels on one line: virsh $args.0 gives libxml2\'s error with the whole line and the caret', async ({args, head, url}) => {
    const l = await lab()
    const line = '<a>'.repeat(100_000) + '</a>'.repeat(100_000)
    const r = await withFile(l, line, args)
    expect(r).toEqual(FAIL(`error: ${head}\nerror: ${url}:1: ${HUGE}\n${line}\n${'-'.repeat(3 * 257)}^\n`))
  })
})

describe('entities: declared in the internal subset, external ones never loaded', () => {
  const PASSWD = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'

  it.each(READERS)('an external entity in content adds nothing: virsh $args.0 reads the document without it', async ({args, head}) => {
    const l = await lab()
    const doc = args[0].startsWith('nodedev')
      ? PASSWD + nodedevXml.replace('<parent>ap_matrix</parent>', '<parent>&x;</parent>')
      : args[0] === 'define'
        ? PASSWD + domainXml({name: '&x;'})
        : PASSWD + hostdevXml('&x;')
    const r = await withFile(l, doc, args)
    expect(r.code).toBe(1)
    expect(r.stderr).not.toContain('root:')
    expect(r.stderr).not.toContain('internal error')
    expect(r.stderr.startsWith(`error: ${head}\nerror: `)).toBe(true)
  })

  it('the exact error: a name made only of the external entity is missing, with or without --validate', async () => {
    const l = await lab()
    expect(await withFile(l, PASSWD + domainXml({name: '&x;'}), ['define', 'x.xml'])).toEqual(FAIL('error: Failed to define domain from x.xml\nerror: missing name information\n'))
    expect(await withFile(l, PASSWD + domainXml({name: '&x;'}), ['define', '--validate', 'x.xml'])).toEqual(FAIL('error: Failed to define domain from x.xml\nerror: missing name information\n'))
  })

  it('around other text an external entity is dropped; an internal one is replaced; the predefined and character references too', async () => {
    const l = await lab()
    const doc = '<!DOCTYPE domain [\n  <!ENTITY x SYSTEM "file:///etc/passwd">\n  <!ENTITY who "gu&#101;st">\n  <!ENTITY % p SYSTEM "http://example.com/p.dtd">\n  %p;\n]>\n' + domainXml({name: '&who;&#x32;&x;', uuid: '22222222-0b8f-4b57-9d0f-1f7f7c2d6e11'})
    expect(await withFile(l, doc, ['define', 'x.xml'])).toEqual({stdout: "Domain 'guest2' defined from x.xml\n\n", stderr: '', code: 0})
    expect(await l.ok('list', '--all', '--name')).toBe('guest1\nguest2\n\n')
  })

  it('an external entity in an attribute value, an entity nobody declared, a loop, a broken declaration', async () => {
    const l = await lab()
    const hd = PASSWD + hostdevXml(U).replace("managed='no'", "managed='&x;'")
    expect(await withFile(l, hd, ['attach-device', 'guest1', 'x.xml', '--config'])).toEqual(
      FAIL(`error: Failed to attach device from x.xml\nerror: (device_definition):2: Attribute references external entity 'x'\n<hostdev mode='subsystem' type='mdev' managed='&x;' model='vfio-ap'>\n--------------------------------------------------^\n`),
    )
    expect(await withFile(l, domainXml({name: 'a&y;'}), ['define', 'x.xml'])).toEqual(FAIL('error: Failed to define domain from x.xml\nerror: (domain_definition):2: Entity \'y\' not defined\n  <name>a&y;</name>\n------------^\n'))
    const loop = '<!DOCTYPE d [<!ENTITY a "&b;"><!ENTITY b "&a;">]>\n' + domainXml({name: '&a;'})
    expect(await withFile(l, loop, ['define', 'x.xml'])).toEqual(FAIL('error: Failed to define domain from x.xml\nerror: XML error: failed to parse xml document\n'))
    // A billion laughs: expansion is bounded.
    let laughs = '<!ENTITY l0 "lol">'
    for (let k = 1; k < 10; k++) laughs += `<!ENTITY l${k} "${`&l${k - 1};`.repeat(10)}">`
    expect(await withFile(l, `<!DOCTYPE d [${laughs}]>\n` + domainXml({name: '&l9;'}), ['define', 'x.xml'])).toEqual(FAIL('error: Failed to define domain from x.xml\nerror: XML error: failed to parse xml document\n'))
    expect(await withFile(l, '<!DOCTYPE d [<!ENTITY x>]>\n<domain/>\n', ['define', 'x.xml'])).toEqual(
      FAIL('error: Failed to define domain from x.xml\nerror: (domain_definition):1: xmlParseInternalSubset: error detected in Markup declaration\n<!DOCTYPE d [<!ENTITY x>]>\n-------------^\n'),
    )
    expect(await withFile(l, '<!DOCTYPE d [\n', ['define', 'x.xml'])).toEqual(FAIL('error: Failed to define domain from x.xml\nerror: (domain_definition):2: DOCTYPE improperly terminated\n\n^\n'))
    expect(await withFile(l, '<domain><!DOCTYPE e></domain>\n', ['define', 'x.xml'])).toEqual(
      FAIL('error: Failed to define domain from x.xml\nerror: (domain_definition):1: StartTag: invalid element name\n<domain><!DOCTYPE e></domain>\n---------^\n'),
    )
  })

  it('names JavaScript holds dear are names like any other', async () => {
    const l = await lab()
    const doc = domainXml({name: 'proto', uuid: '33333333-0b8f-4b57-9d0f-1f7f7c2d6e11'}).replace('<devices>', "<devices>\n    <__proto__ constructor='1' toString='2'/>\n    <prototype/>")
    expect(await withFile(l, doc, ['define', 'x.xml'])).toEqual({stdout: "Domain 'proto' defined from x.xml\n\n", stderr: '', code: 0})
  })
})

describe('characters XML does not allow', () => {
  it('in text, in an attribute value, in a comment', async () => {
    const l = await lab()
    const head = 'error: Failed to define domain from x.xml\nerror: (domain_definition):'
    expect(await withFile(l, domainXml({name: 'a\u0001b'}), ['define', 'x.xml'])).toEqual(FAIL(`${head}2: PCDATA invalid Char value 1\n  <name>a\u0001b</name>\n---------^\n`))
    expect(await withFile(l, "<domain type='k\u0002'/>\n", ['define', 'x.xml'])).toEqual(FAIL(`${head}1: invalid character in attribute value\n<domain type='k\u0002'/>\n---------------^\n`))
    expect(await withFile(l, '<domain><!-- \u0000 --></domain>\n', ['define', 'x.xml'])).toEqual(FAIL(`${head}1: Char 0x0 out of allowed range\n<domain><!-- \u0000 --></domain>\n-------------^\n`))
  })
})

describe('fuzz: mutated definitions never give an internal error', () => {
  // A small seeded generator (mulberry32): the same inputs on every run.
  function rng(seed: number): () => number {
    let a = seed
    return () => {
      a = (a + 0x6d2b79f5) | 0
      let t = Math.imul(a ^ (a >>> 15), 1 | a)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
  }
  const PIECES = ['<', '>', '/>', '</', '&', ';', '&amp;', '&#', '&#x', '&x;', '"', "'", '=', '<!--', '-->', '<![CDATA[', ']]>', '<?', '?>', '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>', '<!ENTITY', '%p;', ']>', '\u0000', '\uffff', '\ud800', '__proto__', 'constructor', ' ', '\n', '<a>', '</a>', '<a><a><a>']

  function mutate(base: string, next: () => number): string {
    let s = base
    const n = 1 + Math.floor(next() * 4)
    for (let k = 0; k < n; k++) {
      const at = Math.floor(next() * (s.length + 1))
      const kind = Math.floor(next() * 4)
      if (kind === 0) s = s.slice(0, at) + PIECES[Math.floor(next() * PIECES.length)] + s.slice(at)
      else if (kind === 1) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(next() * 8))
      else if (kind === 2) s = s.slice(0, at) + s.slice(Math.floor(next() * s.length), Math.floor(next() * s.length)) + s.slice(at)
      else s = s.slice(0, at) + String.fromCharCode(Math.floor(next() * 0x80)) + s.slice(at + 1)
    }
    return s
  }

  it('300 mutations through define, attach-device --config and nodedev-define', {timeout: 120_000}, async () => {
    const l = await lab()
    const next = rng(20261207)
    const bases: Array<[string, string[]]> = [
      [domainXml({name: 'fuzz'}), ['define', 'x.xml']],
      [hostdevXml(U), ['attach-device', 'guest1', 'x.xml', '--config']],
      [nodedevXml, ['nodedev-define', 'x.xml']],
    ]
    const bad: string[] = []
    for (let k = 0; k < 300; k++) {
      const [base, args] = bases[k % bases.length]
      const doc = mutate(base, next)
      l.files['x.xml'] = doc
      let r
      try {
        r = await l.virsh(...args)
      } catch (e) {
        bad.push(`${JSON.stringify(doc)}: threw ${String(e)}`)
        continue
      }
      // libvirt's own VIR_ERR_INTERNAL_ERROR messages ("internal error: malformed uuid element") are its words; aplab's are not.
      const sound = r.code === 0 ? r.stderr === '' : r.code === 1 && /^error: /.test(r.stderr) && !/^virsh: /m.test(r.stderr)
      if (!sound) bad.push(`${JSON.stringify(doc)}: ${r.code} ${r.stderr}`)
      if (r.code === 0) {
        // Taken: undone, so the next input meets the same host.
        if (args[0] === 'define') await l.virsh('undefine', 'fuzz')
        else if (args[0] === 'attach-device') await l.virsh('detach-device', 'guest1', 'x.xml', '--config')
        else await l.virsh('nodedev-undefine', 'mdev_33333333_3333_4333_8333_333333333333_matrix')
      }
    }
    expect(bad).toEqual([])
  })
})
