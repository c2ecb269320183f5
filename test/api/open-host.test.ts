// The library API, through the package's own exports (`import {openHost}
// from 'aplab'`, the build in dist/): command lines give what the binaries
// give, the state stays in memory until saved, sysfs reads, failures undo.
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'

import {openHost} from 'aplab'

const ROOT = join(import.meta.dirname, '..', '..')
const made: string[] = []
afterAll(() => made.forEach((d) => rmSync(d, {recursive: true, force: true})))
const U = '33333333-3333-4333-8333-333333333333'

describe('openHost', () => {
  it('runs aplab and drop-in command lines with the binaries\' output and status, in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aplab-api-'))
    made.push(dir)
    const state = join(dir, 'state.yaml')
    const bin = (name: string, args: string[]) =>
      execa(join(ROOT, 'bin', `${name}.js`), args, {reject: false, stripFinalNewline: false, env: {APLAB_STATE: state, APLAB_HOST: '', APLAB_UID: ''}})
    await bin('aplab', ['init'])
    const host = await openHost({preset: 'default'})
    for (const [line, argv] of [
      ['lszcrypt -V', ['lszcrypt', '-V']],
      ['aplab modprobe vfio_ap', ['aplab', 'modprobe', 'vfio_ap']],
      [`aplab mdev create --uuid ${U}`, ['aplab', 'mdev', 'create', '--uuid', U]],
      ['mdevctl list', ['mdevctl', 'list']],
      ['lszcrypt -x', ['lszcrypt', '-x']],
      ['aplab mdev list', ['aplab', 'mdev', 'list']],
    ] as const) {
      const want = await bin(argv[0], argv.slice(1))
      expect(await host.run(line), line).toEqual({stdout: want.stdout, stderr: want.stderr, status: want.exitCode})
    }
    expect(host.read(`/sys/devices/vfio_ap/matrix/${U}/matrix`)).toBe('')
    expect(host.read('/sys/bus/ap/ap_max_domain_id')).toBe((await bin('aplab', ['sysfs', 'cat', '/sys/bus/ap/ap_max_domain_id'])).stdout)
    // Nothing was written until save; then the file holds what the lines did.
    const other = join(dir, 'saved.yaml')
    await host.save(other)
    const reopened = await openHost({state: other})
    expect((await reopened.run(['aplab', 'mdev', 'list'])).stdout).toContain(U)
    expect(readFileSync(other, 'utf8')).toContain(U)
  })

  it('undoes a failing line and keeps the other hosts apart', async () => {
    const a = await openHost()
    const b = await openHost()
    await a.run('aplab modprobe vfio_ap')
    const bad = await a.run(`aplab mdev assign ${U} --adapter 0`)
    expect(bad.status).not.toBe(0)
    expect(bad.stderr).toMatch(/^aplab: /)
    expect((await a.run('aplab mdev create -u ' + U)).status).toBe(0)
    expect((await b.run('aplab mdev list')).stdout).toBe('')
    expect((await a.run('aplab mdev list')).stdout).toContain(U)
  })
  it("parses virsh's XML from any caller, one whose global require is node -e's from another directory too", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aplab-api-'))
    made.push(dir)
    const xml = join(dir, 'g.xml')
    const script = [
      `import(${JSON.stringify(join(ROOT, 'dist', 'api', 'index.js'))}).then(async ({openHost}) => {`,
      "  const fs = require('node:fs')",
      `  fs.writeFileSync(${JSON.stringify(xml)}, "<domain type='kvm'><name>g</name><memory unit='MiB'>512</memory><os><type arch='s390x'>hvm</type></os></domain>")`,
      "  const h = await openHost({preset: 'vfio-ap-doc'})",
      `  process.stdout.write(JSON.stringify(await h.run(${JSON.stringify(`virsh define ${xml}`)})))`,
      '})',
    ].join('\n')
    const r = await execa(process.execPath, ['-e', script], {cwd: dir, reject: false})
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({stdout: `Domain 'g' defined from ${xml}\n\n`, stderr: '', status: 0})
  })
})
