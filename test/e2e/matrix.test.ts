// aplab matrix through the built binary: the kernel documentation's
// three-guest example as text, JSON and an HTML page opened in headless
// Chromium; the default host's reserved queues; a 256 x 256 host summarised.

import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {hostMatrix} from '../../src/core/matrix.js'
import {newWorld} from '../../src/state/store.js'
import {type Paint, matrixText} from '../../src/views/matrix/text.js'

const ROOT = join(import.meta.dirname, '..', '..')
const CHROMIUM = '/usr/bin/chromium'
const U = ['aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000003']
const CPU = 'host,ap=on,apqci=on,apft=on,apqi=on'

function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-matrix-'))
  const state = join(dir, 'state.yaml')
  const run = async (...args: string[]) => {
    const r = await execa(process.execPath, [join(ROOT, 'bin', 'aplab.js'), ...args], {
      reject: false,
      env: {APLAB_STATE: state, APLAB_HOST: '', APLAB_UID: '', NO_COLOR: ''},
      stripFinalNewline: false,
    })
    return {stdout: r.stdout as string, stderr: r.stderr as string, code: r.exitCode}
  }
  const ok = async (...args: string[]) => {
    const r = await run(...args)
    expect(r.stderr, args.join(' ')).toBe('')
    expect(r.code).toBe(0)
    return r.stdout
  }
  return {dir, run, ok}
}

/** The kernel documentation's example: masks, three mdevs, three guests. */
async function threeGuests(s: ReturnType<typeof sandbox>) {
  await s.ok('init', '--preset', 'vfio-ap-doc')
  await s.ok('sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6')
  await s.ok('sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-4,-0x47,-0xab,-0xff')
  const assign = [
    ['--adapter', '5', '--adapter', '6', '--domain', '4', '--domain', '0xab', '--control-domain', '4'],
    ['--adapter', '5', '--domain', '0x47', '--domain', '0xff'],
    ['--adapter', '6', '--domain', '0x47', '--domain', '0xff'],
  ]
  for (const [i, u] of U.entries()) {
    await s.ok('mdev', 'create', '--uuid', u)
    await s.ok('mdev', 'assign', u, ...assign[i])
    await s.ok('guest', 'start', `guest${i + 1}`, '--', '-cpu', CPU, '-device', `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${u},id=vfio0`)
  }
}

const LEGEND =
  "  .  not in the LPAR's configuration     h  the host's (apmask, aqmask): cex4queue\n" +
  '  v  free for vfio_ap, bound to it       -  bound to no driver\n' +
  "  a  assigned to mdev a                  A  and in its running guest's APCB\n" +
  '  c  after a domain: a control domain of the LPAR\n'

describe.concurrent('aplab matrix', () => {
  it('draws the three-guest example, then a guest stopped and a domain unassigned', async () => {
    const s = sandbox()
    await threeGuests(s)
    expect(await s.ok('matrix')).toBe(
      'host host0: 2 adapters x 4 domains shown of 256 x 256\n' +
        '  adapters: 05 CEX5C, 06 CEX5A\n\n' +
        '       05 06\n0004 c vA vA\n0047 c vB vC\n00ab c vA vA\n00ff c vB vC\n\n' +
        LEGEND +
        'mdevs:\n' +
        `  a  ${U[0]}  guest guest1, control domains 0004\n` +
        `  b  ${U[1]}  guest guest2\n` +
        `  c  ${U[2]}  guest guest3\n`,
    )
    expect(await s.ok('matrix', '--guest', 'guest2')).toBe(
      'host host0: 1 adapter x 2 domains shown of 256 x 256\n' +
        `  guest guest2, mdev ${U[1]}\n` +
        '  adapters: 05 CEX5C\n\n' +
        '       05\n0047 c vB\n00ff c vB\n\n' +
        LEGEND +
        'mdevs:\n' +
        `  b  ${U[1]}  guest guest2\n`,
    )
    // A stopped guest's mdev keeps its assignments (lower case); a queue the host takes back is its own.
    await s.ok('guest', 'stop', 'guest3')
    await s.ok('mdev', 'unassign', U[2], '--domain', '0xff')
    await s.ok('sysfs', 'write', '/sys/bus/ap/apmask', '--', '+6')
    expect((await s.ok('matrix', '--mdev', U[2].toUpperCase(), '--domains', '0x47,0xff')).split('\n').slice(0, 6)).toEqual([
      'host host0: 1 adapter x 2 domains shown of 256 x 256',
      `  mdev ${U[2]}`,
      '  adapters: 06 CEX5A',
      '',
      '       06',
      '0047 c vc',
    ])
    rmSync(s.dir, {recursive: true, force: true})
  })

  it('--json gives the same data with hex IDs', async () => {
    const s = sandbox()
    await threeGuests(s)
    const j = JSON.parse(await s.ok('matrix', '--json'))
    expect(j.adapters.map((a: {id: string; type: string}) => `${a.id} ${a.type}`)).toEqual(['0x05 CEX5C', '0x06 CEX5A'])
    expect(j.domains.map((d: {id: string}) => d.id)).toEqual(['0x0004', '0x0047', '0x00ab', '0x00ff'])
    expect(j.queues.find((q: {apqn: string}) => q.apqn === '06.0047')).toEqual({
      apqn: '06.0047',
      in_config: true,
      exists: true,
      reserved_for_host: false,
      driver: 'vfio_ap',
      mdev: U[2],
      guest: 'guest3',
    })
    expect(j.mdevs[0]).toMatchObject({uuid: U[0], letter: 'a', adapters: ['0x05', '0x06'], domains: ['0x0004', '0x00ab'], control_domains: ['0x0004'], guest: 'guest1'})
    expect(j.guests.map((g: {name: string; apqns: string[]}) => `${g.name} ${g.apqns.join(',')}`)).toEqual([
      'guest1 05.0004,05.00ab,06.0004,06.00ab',
      'guest2 05.0047,05.00ff',
      'guest3 06.0047,06.00ff',
    ])
    rmSync(s.dir, {recursive: true, force: true})
  })

  it("the default host: every queue the host's; a range named; bad input refused", async () => {
    const s = sandbox()
    const out = await s.ok('matrix', '--adapters', '0-2,0x10', '--domains', '3-4')
    expect(out).toBe(
      'host host0: 4 adapters x 2 domains shown of 256 x 85; vfio_ap not loaded\n' +
        '  adapters: 00 CEX8C, 01 CEX8P, 02 CEX8A, 10 (not configured)\n\n' +
        '       00 01 02 10\n0003   .  .  .  .\n0004 c h  h  h  .\n\n' +
        LEGEND,
    )
    expect(await s.run('matrix', '--adapters', '300')).toEqual({stdout: '', stderr: 'aplab: --adapters 300: 300 is above 255\n', code: 1})
    expect(await s.run('matrix', '--guest', 'nosuch')).toEqual({stdout: '', stderr: "aplab: no guest named 'nosuch' on host host0\n", code: 1})
    const dirAsFile = await s.run('matrix', '--html', s.dir)
    expect(dirAsFile).toEqual({stdout: '', stderr: `aplab: cannot write ${s.dir}: is a directory\n`, code: 1})
    expect(existsSync(join(s.dir, 'state.yaml'))).toBe(false)
    rmSync(s.dir, {recursive: true, force: true})
  })

  it('a 256 x 256 host is summarised', async () => {
    const s = sandbox()
    await s.ok('init', '--preset', 'max')
    const out = await s.ok('matrix')
    expect(out.split('\n').every((l) => l.length <= 80)).toBe(true)
    expect(out).toContain('host host0: 256 adapters x 256 domains shown of 256 x 256; vfio_ap not loaded\n  65536 APQNs, too many to draw at 80 columns; 256 control domains\n')
    expect(out).toContain("  h  65536  the host's (apmask, aqmask): cex4queue\n")
    expect(out).toContain('  a      0  assigned to an mdev\n')
    rmSync(s.dir, {recursive: true, force: true})
  })
})

it('colours paint the symbols and keep them', () => {
  const w = newWorld('vfio-ap-doc')
  const tag = (t: string) => (x: string) => `<${t}>${x}`
  const paint: Paint = {off: tag('off'), host: tag('host'), free: tag('free'), none: tag('none'), assigned: tag('a'), guest: tag('g'), bold: (x) => x}
  const text = matrixText(hostMatrix(w.hosts[0], {domains: {bits: () => [4]} as never}), paint)
  expect(text).toContain('0004 c <host>h  <host>h\n')
})

describe('aplab matrix --html in headless Chromium', () => {
  it.skipIf(!existsSync(CHROMIUM))(`shows the four filter levels of the three-guest example (skipped without ${CHROMIUM})`, async () => {
    const s = sandbox()
    await threeGuests(s)
    const page = join(s.dir, 'matrix.html')
    await s.ok('matrix', '--html', page)
    expect(readFileSync(page, 'utf8')).not.toMatch(/(src|href)=|url\(|<script/i)
    const {chromium} = await import('playwright-core')
    const profile = mkdtempSync(join(tmpdir(), 'aplab-chromium-'))
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      offline: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'],
    })
    try {
      const tab = await ctx.newPage()
      await tab.goto('file://' + page)
      const levels = await tab.$$eval('section.level', (ss) =>
        ss.map((sec) => {
          const box = sec.getBoundingClientRect()
          const lit = [...sec.querySelectorAll('td')].filter((td) => td.ownerDocument.defaultView!.getComputedStyle(td).backgroundColor !== 'rgb(255, 255, 255)')
          return {title: sec.querySelector('h2')!.textContent, top: Math.round(box.top), left: box.left, lit: lit.map((td) => `${td.dataset.apqn}${td.textContent}`).join(' ')}
        }),
      )
      expect(levels.map((l) => l.title)).toEqual(["LPAR's configuration", "Host's masks", 'mdev matrices', "guests' APCBs"])
      // Side by side: one row, left to right.
      expect(new Set(levels.map((l) => l.top)).size).toBe(1)
      expect(levels.map((l) => l.left)).toEqual([...levels.map((l) => l.left)].sort((a, b) => a - b))
      const all = '05.0004 06.0004 05.0047 06.0047 05.00ab 06.00ab 05.00ff 06.00ff'
      expect(levels[0].lit).toBe(all)
      expect(levels[1].lit).toBe(all.split(' ').map((q) => q + 'v').join(' '))
      expect(levels[2].lit).toBe('05.0004a 06.0004a 05.0047b 06.0047c 05.00aba 06.00aba 05.00ffb 06.00ffc')
      expect(levels[3].lit).toBe('05.0004A 06.0004A 05.0047B 06.0047C 05.00abA 06.00abA 05.00ffB 06.00ffC')
      expect(await tab.locator('ul.mdevs li').allInnerTexts()).toEqual([
        `a ${U[0]} — guest guest1; control domains 0004`,
        `b ${U[1]} — guest guest2`,
        `c ${U[2]} — guest guest3`,
      ])
    } finally {
      await ctx.close()
      rmSync(profile, {recursive: true, force: true})
      rmSync(s.dir, {recursive: true, force: true})
    }
  })
})
