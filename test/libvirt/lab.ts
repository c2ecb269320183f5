// A host of the kernel documentation with virsh run in-process over a
// state kept as its YAML text: a command that fails saves nothing, as
// the drop-in under the state lock does.

import {setClock} from '../../src/core/clock.js'
import type {World} from '../../src/core/model.js'
import {preset} from '../../src/core/presets.js'
import {runVirsh} from '../../src/libvirt/run.js'
import {parse, serialize} from '../../src/state/store.js'
import {hostVfs} from '../../src/sysfs/host.js'

export const U = '62177883-f1bb-47f0-914d-32a22e3a8804'
export const V = '22222222-2222-4222-8222-222222222222'

export const hostdevXml = (u: string): string => `<hostdev mode='subsystem' type='mdev' managed='no' model='vfio-ap'>
  <source>
    <address uuid='${u}'/>
  </source>
</hostdev>
`

export const domainXml = (o: {name?: string; uuid?: string | null; hostdevs?: string[]; cpu?: string} = {}): string => `<domain type='kvm'>
  <name>${o.name ?? 'guest1'}</name>
${o.uuid === null ? '' : `  <uuid>${o.uuid ?? '6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11'}</uuid>\n`}  <memory unit='MiB'>2048</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='s390x' machine='s390-ccw-virtio'>hvm</type>
  </os>
${o.cpu ?? "  <cpu mode='host-passthrough'>\n    <feature policy='require' name='ap'/>\n    <feature policy='require' name='apqci'/>\n    <feature policy='require' name='apft'/>\n    <feature policy='require' name='apqi'/>\n  </cpu>"}
  <devices>
${(o.hostdevs ?? [U]).map((u) => hostdevXml(u).replace(/^/gm, '    ').replace(/ +$/, '')).join('')}  </devices>
</domain>
`

export interface Result {
  stdout: string
  stderr: string
  code: number
}

/** Two hosts of the kernel documentation, masks freeing adapters 5 and 6 for vfio_ap; mdev U (05/06 x 0004/00ab) on the first. */
export function docWorld(): World {
  setClock(() => Date.UTC(2026, 11, 7, 1, 2, 3, 456))
  const hosts = ['lpar1', 'lpar2'].map((n) => {
    const h = preset('vfio-ap-doc').build(n)
    const v = hostVfs(h)
    v.write('/sys/bus/ap/apmask', '-5,-6\n')
    v.write('/sys/bus/ap/aqmask', '-4,-0x47,-0xab,-0xff\n')
    v.write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', U)
    for (const [f, x] of [
      ['assign_adapter', '5'],
      ['assign_adapter', '6'],
      ['assign_domain', '4'],
      ['assign_domain', '0xab'],
    ])
      v.write(`/sys/devices/vfio_ap/matrix/${U}/${f}`, x + '\n')
    return h
  })
  return {current: 'lpar1', hosts}
}

export class Lab {
  files: Record<string, string> = {}
  private uuids = 0
  constructor(public state: string) {}

  static async create(w: World = docWorld()): Promise<Lab> {
    return new Lab(await serialize(w))
  }

  async world(): Promise<World> {
    return parse(this.state, 'state.yaml')
  }

  async save(w: World): Promise<void> {
    this.state = await serialize(w)
  }

  uid = 0

  async virsh(...argv: string[]): Promise<Result> {
    const r = await runVirsh(argv, {
      uid: this.uid,
      onWorld: async (mode, fn) => {
        const w = await this.world()
        const out = await fn(w)
        if (mode === 'write') this.state = await serialize(w)
        return out
      },
      readFile: (p) => {
        if (!(p in this.files)) throw Object.assign(new Error('ENOENT'), {code: 'ENOENT'})
        return this.files[p]
      },
      newUuid: () => `00000000-0000-4000-8000-${String(++this.uuids).padStart(12, '0')}`,
      openLog: (p) => {
        if (p.startsWith('/nonexistent/')) throw Object.assign(new Error('ENOENT'), {code: 'ENOENT'})
        this.files[p] ??= ''
      },
      writeLog: (p, t) => {
        this.files[p] += t
      },
      pid: 4242,
    })
    return {stdout: r.stdout, stderr: r.stderr, code: r.code}
  }

  /** A command that must succeed: its stdout. */
  async ok(...argv: string[]): Promise<string> {
    const r = await this.virsh(...argv)
    if (r.code !== 0 || r.stderr !== '') throw new Error(`virsh ${argv.join(' ')}: ${r.stderr}`)
    return r.stdout
  }
}
