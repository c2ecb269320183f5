// `aplab mdev`: the vfio_ap mediated devices without sysfs paths. Each
// operation is the write to the sysfs file it stands for, made through the
// same emulated /sys as `aplab sysfs write` (so the same permission check and
// the same kernel code, log lines included), with the errors said in plain words.

import {AplabError, type Errno, KernelError, UsageError} from '../core/errors.js'
import type {Host, Mdev} from '../core/model.js'
import {MDEV_TYPE, findMdev} from '../core/vfio.js'
import {hostVfs} from '../sysfs/host.js'
import {readVfioApConfig} from '../tools/zdev/libap.js'
import {refusal} from './refuse.js'
import type {MdevInfo} from '../views/mdev.js'
import {newUuid} from './uuid.js'

const WHY: Partial<Record<Errno, string>> = {
  EADDRNOTAVAIL: 'an APQN it would add is reserved for the host by apmask and aqmask',
  EADDRINUSE: 'an APQN it would add is assigned to another mdev (aplab dmesg names it)',
  ENODEV: 'the number is above the highest the host has (ap_max_adapter_id, ap_max_domain_id)',
  EINVAL: 'the kernel takes a decimal, 0x hex or 0-prefixed octal number',
  ERANGE: 'the number is too large',
  EEXIST: 'an mdev with this UUID exists already',
  EUSERS: 'no more instances of vfio_ap-passthrough are available',
}

const MATRIX = '/sys/devices/vfio_ap/matrix'
/** The sysfs file each operation writes. */
const CREATE_PATH = `${MATRIX}/mdev_supported_types/${MDEV_TYPE}/create`
const mdevAttr = (uuid: string, attr: string): string => `${MATRIX}/${uuid}/${attr}`

/** Write a sysfs file as the caller; a refusal is one line saying what was refused and why. */
function sysfsWrite(host: Host, uid: number, what: string, path: string, text: string): void {
  try {
    hostVfs(host, uid).write(path, text)
  } catch (e) {
    if (!(e instanceof KernelError)) throw e
    throw refusal(what, e.errno, e.errno === 'EACCES' ? `only root may write ${path}` : WHY[e.errno])
  }
}

function requireVfioAp(host: Host): void {
  if (!host.runtime.modules.includes('vfio_ap')) throw new UsageError('vfio_ap is not loaded on this host (aplab modprobe vfio_ap)')
}

export function mdevOf(host: Host, uuid: string): Mdev {
  requireVfioAp(host)
  const m = findMdev(host, uuid)
  if (!m) throw new UsageError(`no mdev ${uuid} on host ${host.name} (aplab mdev list shows them)`)
  return m
}

/** echo UUID > .../mdev_supported_types/vfio_ap-passthrough/create */
export function create(host: Host, uuid?: string, uid = 0): string {
  requireVfioAp(host)
  const u = uuid ?? newUuid()
  sysfsWrite(host, uid, `create mdev ${u}`, CREATE_PATH, u + '\n')
  return findMdev(host, u)!.uuid
}

export interface Parts {
  adapter?: string[]
  domain?: string[]
  'control-domain'?: string[]
}

const PARTS: Array<[keyof Parts, string, string]> = [
  ['adapter', 'adapter', 'adapter'],
  ['domain', 'domain', 'domain'],
  ['control-domain', 'control_domain', 'control domain'],
]

/**
 * Assign (or unassign) adapters, then domains, then control domains, in the
 * order given: one write to assign_* (unassign_*) each. All or none apply:
 * when the kernel refuses one, the mdev gets back the matrix it had, and
 * what the kernel logged on the way stays in its log (the command saves
 * the state before reporting the refusal: mutateKeepingLog).
 */
export function change(host: Host, uuid: string, parts: Parts, remove: boolean, uid = 0): void {
  const m = mdevOf(host, uuid)
  if (!PARTS.some(([k]) => parts[k]?.length)) throw new UsageError('name at least one --adapter, --domain or --control-domain')
  const before = {apm: m.apm, aqm: m.aqm, adm: m.adm, shadow: {...m.shadow}}
  try {
    for (const [key, part, word] of PARTS)
      for (const id of parts[key] ?? [])
        sysfsWrite(
          host,
          uid,
          `${remove ? 'unassign' : 'assign'} ${word} ${id} ${remove ? 'from' : 'to'} mdev ${m.uuid}`,
          mdevAttr(m.uuid, `${remove ? 'unassign' : 'assign'}_${part}`),
          id + '\n',
        )
  } catch (e) {
    Object.assign(m, {apm: before.apm, aqm: before.aqm, adm: before.adm, shadow: before.shadow})
    throw e
  }
}

/** echo 1 > /sys/bus/mdev/devices/UUID/remove */
export function remove(host: Host, uuid: string, uid = 0): void {
  const m = mdevOf(host, uuid)
  sysfsWrite(host, uid, `remove mdev ${m.uuid}`, mdevAttr(m.uuid, 'remove'), '1\n')
}

/** The start mode of an mdevctl definition, or null when the mdev is not defined. */
export function definition(host: Host, uuid: string): 'auto' | 'manual' | null {
  const text = host.persistent.files[`/etc/mdevctl.d/matrix/${uuid}`]
  if (text === undefined) return null
  try {
    return (JSON.parse(text) as {start?: unknown}).start === 'auto' ? 'auto' : 'manual'
  } catch {
    return 'manual'
  }
}

/** The IDs a definition's attributes assign; null when it cannot be read. */
function definedMatrix(host: Host, uuid: string): {adapters: number[]; domains: number[]; controls: number[]} | null {
  try {
    return readVfioApConfig(host.persistent.files[`/etc/mdevctl.d/matrix/${uuid}`] ?? null)
  } catch {
    return null // a malformed ap_config, which makes libap abort
  }
}

/** Running mdevs and mdevctl definitions, by UUID. */
export function mdevInfos(host: Host): MdevInfo[] {
  const defined = Object.keys(host.persistent.files)
    .map((f) => /^\/etc\/mdevctl\.d\/matrix\/([0-9a-f-]{36})$/.exec(f)?.[1])
    .filter((u): u is string => u !== undefined)
  const uuids = [...new Set([...host.runtime.mdevs.map((m) => m.uuid), ...defined])].sort()
  return uuids.map((uuid) => {
    const m = findMdev(host, uuid)
    const bits = (x?: {bits(): number[]}) => x?.bits() ?? []
    // An mdev that is only defined shows what its definition would assign (as libap reads it).
    const def = m ? null : definedMatrix(host, uuid)
    return {
      uuid,
      active: m !== undefined,
      defined: definition(host, uuid),
      adapters: def?.adapters ?? bits(m?.apm),
      domains: def?.domains ?? bits(m?.aqm),
      control_domains: def?.controls ?? bits(m?.adm),
      guest_matrix: {adapters: bits(m?.shadow.apm), domains: bits(m?.shadow.aqm), control_domains: bits(m?.shadow.adm)},
    }
  })
}

/**
 * `mdevctl start -u UUID` or `mdevctl stop -u UUID` on the host: the
 * definition's attributes written in order, ap-check's rules, the device
 * removed again at the first failure. mdevctl's report becomes one message.
 */
export async function viaMdevctl(host: Host, action: 'start' | 'stop', uuid: string, uid: number): Promise<void> {
  requireVfioAp(host)
  const [{parseUuid}, {mdevctlOnHost}] = await Promise.all([import('../tools/mdevctl/uuid.js'), import('./mdevctl.js')])
  const parsed = parseUuid(uuid)
  if ('error' in parsed) throw new UsageError(`'${uuid}' is not a UUID: ${parsed.error}`)
  if (action === 'start' && definition(host, parsed.uuid) === null)
    throw new UsageError(`mdev ${parsed.uuid} is not defined on host ${host.name} (mdevctl define defines it; aplab mdev create makes a transient one)`)
  if (action === 'stop' && !findMdev(host, parsed.uuid)) throw new UsageError(`no mdev ${parsed.uuid} is running on host ${host.name}`)
  const {code, stderr} = await mdevctlOnHost(host, [action, '-u', parsed.uuid], uid)
  if (code === 0) return
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^Error: /, '').trim())
    .filter((l) => l && l !== 'Caused by:')
  throw new AplabError(`cannot ${action} mdev ${parsed.uuid}: ${lines.join(': ')}`)
}
