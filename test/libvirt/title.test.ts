// <title> and <description> kept in the definition, written back in
// libvirt's element order, and `virsh list --title` (virsh-domain-monitor.c
// cmdList, vsh-table.c).

import {describe, expect, it} from 'vitest'

import {safeEncode} from '../../src/libvirt/virsh.js'
import {Lab, domainXml} from './lab.js'

const withMeta = (meta: string, name = 'guest1', uuid?: string): string => domainXml({name, ...(uuid ? {uuid} : {}), hostdevs: []}).replace(/(<\/uuid>\n)/, `$1${meta}`)

async function lab(): Promise<Lab> {
  const l = await Lab.create()
  l.files['g1.xml'] = withMeta("  <title>Payments &amp; \"HSM\" o'clock</title>\n  <description>first line\n  second &lt;line&gt;</description>\n")
  l.files['g2.xml'] = withMeta('', 'ap-guest2', '11111111-2222-4333-8444-555555555555')
  await l.ok('define', 'g1.xml')
  await l.ok('define', 'g2.xml')
  return l
}

/** The same domain's dumpxml without title and description, inactive or running (the layout domains.test.ts holds whole). */
async function without(live: boolean): Promise<string> {
  const l = await Lab.create()
  l.files['g.xml'] = withMeta('')
  await l.ok('define', 'g.xml')
  if (live) await l.ok('start', 'guest1')
  return l.ok('dumpxml', 'guest1')
}
/** That text with `lines` right after <uuid>. */
const after = (xml: string, lines: string): string => xml.replace('</uuid>\n', `</uuid>\n${lines}`)

const META = "  <title>Payments &amp; &quot;HSM&quot; o&apos;clock</title>\n  <description>first line\n  second &lt;line&gt;</description>\n"

describe('<title> and <description>', () => {
  it('are kept and written back after <uuid>, escaped as virBufferEscapeString escapes', async () => {
    const l = await lab()
    const xml = await l.ok('dumpxml', 'guest1')
    expect(xml).toBe(after(await without(false), META))
    // and survive a start (the live definition) and a redefinition from the dump
    await l.ok('start', 'guest1')
    expect(await l.ok('dumpxml', 'guest1')).toBe(after(await without(true), META))
    l.files['again.xml'] = xml
    await l.ok('define', 'again.xml')
    expect(await l.ok('dumpxml', '--inactive', 'guest1')).toBe(xml)
  })

  it('take the string value of the element; an empty one is none', async () => {
    const l = await Lab.create()
    l.files['g.xml'] = withMeta('  <title>a<b>b</b>c</title>\n  <description></description>\n')
    await l.ok('define', 'g.xml')
    expect(await l.ok('dumpxml', 'guest1')).toBe(after(await without(false), '  <title>abc</title>\n'))
  })

  it('a title with a newline is refused and nothing is defined', async () => {
    const l = await Lab.create()
    l.files['g.xml'] = withMeta('  <title>two\nlines</title>\n')
    const before = l.state
    expect(await l.virsh('define', 'g.xml')).toEqual({
      stdout: '\n',
      stderr: "error: Failed to define domain from g.xml\nerror: XML error: Domain title can't contain newlines\n",
      code: 1,
    })
    expect(l.state).toBe(before)
  })
})

describe('virsh list --title', () => {
  it('adds the Title column, empty for a domain without one', async () => {
    const l = await lab()
    await l.ok('start', 'guest1')
    expect(await l.ok('list', '--all', '--title')).toBe(
      [
        ' Id   Name        State      Title',
        '-'.repeat(5 + 12 + 11 + 27), // widths: Id 2, Name 9, State 8, Title 24
        ` 1    guest1      running    Payments & "HSM" o'clock`,
        ' -    ap-guest2   shut off   ',
        '',
        '',
      ].join('\n'),
    )
  })

  it('with --quiet: no header, and the header does not widen the columns', async () => {
    const l = await lab()
    expect(await l.ok('-q', 'list', '--inactive', '--title')).toBe(' -   ap-guest2   shut off   \n -   guest1      shut off   Payments & "HSM" o\'clock\n')
    expect(await l.ok('-q', 'list', '--inactive')).toBe(' -   ap-guest2   shut off\n -   guest1      shut off\n')
  })

  it('encodes control characters and counts wide characters twice', async () => {
    expect(safeEncode('a\tb')).toEqual({text: 'a\\x09b', width: 6})
    expect(safeEncode('c:\\x')).toEqual({text: 'c:\\x5cx', width: 7})
    expect(safeEncode('Zürich 東京')).toEqual({text: 'Zürich 東京', width: 11})
    const l = await Lab.create()
    l.files['g.xml'] = withMeta('  <title>東京&#9;x</title>\n')
    await l.ok('define', 'g.xml')
    expect(await l.ok('list', '--all', '--title')).toBe(' Id   Name     State      Title\n' + '-'.repeat(5 + 9 + 11 + 12) + '\n' + ' -    guest1   shut off   東京\\x09x\n\n')
  })
})
