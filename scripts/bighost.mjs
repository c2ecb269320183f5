// The big host of issue 12, built in-process through the same code the
// commands use (no process per call): the `max` preset (256 adapters x 256
// domains), vfio_ap loaded with apmask and aqmask cleared, MDEVS mdevs
// created through sysfs, given one adapter, one domain and one control
// domain each (distinct APQNs), defined with `mdevctl define --auto` from
// the running device, and GUESTS guests running with one mdev each.
// Saved through src/state/store.ts. Needs the build (node scripts/build.mjs).
// Usage: node scripts/bighost.mjs FILE [MDEVS] [GUESTS]
import {join, dirname} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href)

/** A deterministic UUID for mdev i, so that runs can be compared. */
export const bigUuid = (i) => `b16b0000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`

export async function buildBigWorld(mdevs = 1000, guests = 100) {
  const [{newWorld}, {modprobe}, {hostVfs}, mdev, {mdevctlOnHost}, guest] = await Promise.all([
    dist('state/store.js'),
    dist('core/modules.js'),
    dist('sysfs/host.js'),
    dist('cli/mdev.js'),
    dist('cli/mdevctl.js'),
    dist('cli/guest.js'),
  ])
  const world = newWorld('max')
  const host = world.hosts[0]
  modprobe(host, 'vfio_ap', false, 0)
  const vfs = hostVfs(host, 0)
  vfs.write('/sys/bus/ap/apmask', '0x' + '0'.repeat(64) + '\n')
  vfs.write('/sys/bus/ap/aqmask', '0x' + '0'.repeat(64) + '\n')
  for (let i = 0; i < mdevs; i++) {
    const uuid = mdev.create(host, bigUuid(i), 0)
    const a = i % 256
    const d = Math.floor(i / 256)
    mdev.change(host, uuid, {adapter: [String(a)], domain: [String(d)], 'control-domain': [String(d)]}, false, 0)
    const r = await mdevctlOnHost(host, ['define', '-u', uuid, '--auto'], 0)
    if (r.code !== 0) throw new Error(`mdevctl define ${uuid}: ${r.stderr}`)
  }
  for (let g = 0; g < guests; g++) {
    const argv = ['-cpu', 'host,ap=on,apqci=on,apft=on,apqi=on', '-device', `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${bigUuid(g)},id=vfio0`]
    guest.start(world, host, `guest${g}`, argv, {libvirt: false, autostart: false, uid: 0})
  }
  return world
}

export async function saveBigHost(file, mdevs = 1000, guests = 100) {
  const world = await buildBigWorld(mdevs, guests)
  const {replace} = await dist('state/store.js')
  await replace(file, world, true)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, m, g] = process.argv.slice(2)
  if (!file) {
    process.stderr.write('usage: node scripts/bighost.mjs FILE [MDEVS] [GUESTS]\n')
    process.exit(2)
  }
  const t0 = performance.now()
  await saveBigHost(file, Number(m ?? 1000), Number(g ?? 100))
  process.stderr.write(`big host written to ${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
}
