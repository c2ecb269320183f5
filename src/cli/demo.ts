// `aplab demo`: the kernel documentation's three-guest example played end
// to end on a throwaway state. Each step is typed as an operator types it and
// run by spawning aplab's own binaries, so what it prints is their real
// output; a short line says what just happened.

import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AplabError} from '../core/errors.js'
import {shQuote} from '../views/shell.js'
import {handOverTerminal} from './env.js'
import {packageRoot} from './package.js'

const CPU = 'host,ap=on,apqci=on,apft=on,apqi=on'

export interface DemoStep {
  /** A heading before a group of steps. */
  chapter?: string
  /** The program (a binary of bin/) and its arguments; `{U1}` stands for the first mdev's UUID. */
  argv: string[]
  /** What just happened. */
  note: string
  /** The step is refused on purpose: a non-zero exit is what it shows. */
  refused?: boolean
  /** Keep its stdout (trimmed) as this placeholder for later steps. */
  keep?: 'U1' | 'U2' | 'U3'
}

const dev = (u: string) => `vfio-ap,sysfsdev=/sys/bus/mdev/devices/{${u}},id=vfio0`

export const DEMO: DemoStep[] = [
  {chapter: "The kernel documentation's host", argv: ['aplab', 'init', '--preset', 'vfio-ap-doc'], note: 'A fresh host: adapters 05 (CEX5C) and 06 (CEX5A), usage domains 0x04, 0x47, 0xab and 0xff; vfio_ap is loaded.'},
  {argv: ['lszcrypt', '-V'], note: 'Every queue belongs to the host: apmask and aqmask reserve them all for the zcrypt drivers (cex4queue).'},
  {chapter: 'Free the queues for vfio_ap', argv: ['aplab', 'sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6'], note: 'echo -5,-6 > /sys/bus/ap/apmask: adapters 05 and 06 leave the host\'s mask.'},
  {argv: ['aplab', 'sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-4,-0x47,-0xab,-0xff'], note: 'The four domains too: their eight queues are now free, and vfio_ap takes them.'},
  {argv: ['lszcrypt', '-V'], note: 'The eight queues are bound to vfio_ap; the host no longer uses them.'},
  {chapter: 'Three mediated devices', argv: ['aplab', 'mdev', 'create'], note: 'echo $(uuidgen) > .../mdev_supported_types/vfio_ap-passthrough/create: a vfio_ap mdev for guest1.', keep: 'U1'},
  {argv: ['aplab', 'mdev', 'create'], note: 'One for guest2.', keep: 'U2'},
  {argv: ['aplab', 'mdev', 'create'], note: 'One for guest3.', keep: 'U3'},
  {argv: ['aplab', 'mdev', 'assign', '{U1}', '--adapter', '5', '--adapter', '6', '--domain', '4', '--domain', '0xab'], note: "guest1's matrix: adapters 05, 06 x domains 0x04, 0xab (four queues), written to assign_adapter and assign_domain."},
  {argv: ['aplab', 'mdev', 'assign', '{U2}', '--adapter', '5', '--domain', '0x47', '--domain', '0xff'], note: "guest2's matrix: 05.0047 and 05.00ff."},
  {argv: ['aplab', 'mdev', 'assign', '{U3}', '--adapter', '6', '--domain', '0x47', '--domain', '0xff'], note: "guest3's matrix: 06.0047 and 06.00ff."},
  {argv: ['aplab', 'mdev', 'assign', '{U2}', '--adapter', '6'], note: 'Refused (EADDRINUSE): 06.0047 and 06.00ff are in the third mdev already; the kernel log says so.', refused: true},
  {argv: ['aplab', 'matrix'], note: 'The picture: every queue free for vfio_ap (v) and assigned to one mdev (a, b, c); no guest yet.'},
  {chapter: 'Three guests', argv: ['aplab', 'guest', 'start', '--autostart', 'guest1', '--', '-cpu', CPU, '-device', dev('U1')], note: "QEMU starts guest1 with the first mdev: its APCB gets the mdev's four queues."},
  {argv: ['aplab', 'guest', 'start', 'guest2', '--', '-cpu', CPU, '-device', dev('U2')], note: 'guest2 with the second mdev.'},
  {argv: ['aplab', 'guest', 'start', 'guest3', '--', '-cpu', CPU, '-device', dev('U3')], note: 'guest3 with the third.'},
  {argv: ['aplab', 'guest', 'exec', 'guest1', '--', 'lszcrypt'], note: 'Inside guest1: both adapters, domains 0x04 and 0xab.'},
  {argv: ['aplab', 'guest', 'exec', 'guest2', '--', 'lszcrypt'], note: 'Inside guest2: adapter 05, domains 0x47 and 0xff.'},
  {argv: ['aplab', 'guest', 'exec', 'guest3', '--', 'lszcrypt'], note: 'Inside guest3: adapter 06, domains 0x47 and 0xff.'},
  {argv: ['aplab', 'sysfs', 'cat', '/sys/bus/ap/devices/05.0004/status'], note: 'On the host, a queue in a guest reads "in use".'},
  {chapter: 'An LPAR change and a hot plug', argv: ['aplab', 'sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-0x10'], note: 'Domain 0x10 is not in the LPAR yet; free it for vfio_ap ahead of time.'},
  {argv: ['aplab', 'mdev', 'assign', '{U1}', '--domain', '0x10'], note: 'Over-provisioned: the mdev has 0x10, but vfio_ap filters it out of the APCB while the LPAR lacks it.'},
  {argv: ['aplab', 'hw', 'domain', 'add', '0x10'], note: 'The SE/HMC adds usage domain 0x10 to the LPAR; the host rescans and vfio_ap hot plugs 05.0010 and 06.0010 into guest1.'},
  {argv: ['aplab', 'guest', 'exec', 'guest1', '--', 'lszcrypt'], note: 'guest1 sees the new domain without a restart.'},
  {chapter: 'A reboot', argv: ['chzdev', '-t', 'ap', '-p', 'apmask=-5,-6', 'aqmask=-4,-0x10,-0x47,-0xab,-0xff'], note: 'The masks persist as udev rules (41-ap.rules) in /etc.'},
  {argv: ['mdevctl', 'define', '-u', '{U1}', '--auto'], note: "guest1's mdev gets an mdevctl definition that starts it at boot; the other two stay transient."},
  {argv: ['aplab', 'host', 'reboot'], note: "The host reboots: the guests stop, the kernel boots from its command line and /etc, udev applies the masks, mdevctl starts the defined mdev and guest1 starts again (--autostart)."},
  {argv: ['aplab', 'matrix'], note: 'What was made persistent came back; the other two mdevs were transient, so guest2 and guest3 stay down.'},
  {chapter: 'Detach, migrate, attach', argv: ['aplab', 'host', 'add', 'lpar2', '--preset', 'vfio-ap-doc'], note: 'A second LPAR with the same adapters and domains.'},
  {argv: ['aplab', '--host', 'lpar2', 'sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6'], note: 'On lpar2, the adapters are freed for vfio_ap ...'},
  {argv: ['aplab', '--host', 'lpar2', 'sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-4,-0xab'], note: '... and domains 0x04 and 0xab.'},
  {argv: ['aplab', '--host', 'lpar2', 'mdev', 'create', '--uuid', '{U1}'], note: 'An mdev with the same UUID on lpar2 ...'},
  {argv: ['aplab', '--host', 'lpar2', 'mdev', 'assign', '{U1}', '--adapter', '5', '--adapter', '6', '--domain', '4', '--domain', '0xab'], note: '... and the same matrix, but domain 0x10, which lpar2 does not have.'},
  {argv: ['aplab', 'guest', 'migrate', 'guest1', '--to', 'lpar2'], note: 'Refused: a vfio-ap device cannot be migrated; QEMU says so.', refused: true},
  {argv: ['aplab', 'guest', 'device-del', 'guest1', 'vfio0'], note: 'Hot unplug the vfio-ap device: guest1 has no crypto now.'},
  {argv: ['aplab', 'guest', 'migrate', 'guest1', '--to', 'lpar2'], note: 'guest1 moves to lpar2 (live migration).'},
  {argv: ['aplab', '--host', 'lpar2', 'guest', 'device-add', 'guest1', dev('U1')], note: "Plug lpar2's mdev in: guest1 has its queues back."},
  {argv: ['aplab', 'guest', 'exec', 'guest1', '--', 'lszcrypt'], note: 'Inside guest1 on lpar2: 05 and 06 with 0x04 and 0xab; lszcrypt may warn that the default domain it booted with is gone.'},
  {argv: ['aplab', '--host', 'lpar2', 'matrix'], note: "lpar2's picture: guest1 uses the four queues (A)."},
]

export interface DemoIo {
  write(s: string): void
  /** Wait for Enter (resolves at once at the end of input). */
  waitEnter?(): Promise<void>
  /** Paint the typed commands and the notes (identity without colour). */
  command(s: string): string
  note(s: string): string
}

/** Quote an argument for a shell, only where it needs it. */
const shq = (a: string): string => shQuote(a, true)

/** The bin/ directory of this aplab. */
export const binDir = (): string => join(packageRoot(), 'bin')

/** Play the demo on a new temporary state, removed at the end; returns the exit status. */
export async function playDemo(io: DemoIo, bin = binDir()): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-demo-'))
  const env: NodeJS.ProcessEnv = {...process.env, APLAB_STATE: join(dir, 'state.yaml')}
  for (const k of ['APLAB_HOST', 'APLAB_UID', 'SYSFS_ROOT', 'MDEVCTL_ENV_ROOT']) delete env[k]
  const kept: Record<string, string> = {}
  const cleanup = () => rmSync(dir, {recursive: true, force: true})
  const onSignal = () => {
    cleanup()
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  try {
    io.write(io.note(`# A throwaway state: ${env.APLAB_STATE} (removed at the end).`) + '\n')
    for (const [i, step] of DEMO.entries()) {
      const argv = step.argv.map((a) => a.replace(/\{(U[123])\}/g, (_, k: string) => kept[k] ?? k))
      if (step.chapter) io.write('\n' + io.note(`## ${step.chapter}`) + '\n')
      if (i > 0 && io.waitEnter) await io.waitEnter()
      io.write(io.command('$ ' + argv.map(shq).join(' ')) + '\n')
      const [prog, ...args] = argv
      handOverTerminal()
      const r = spawnSync(process.execPath, [join(bin, `${prog}.js`), ...args], {
        env,
        stdio: ['ignore', step.keep ? 'pipe' : 'inherit', 'inherit'],
        encoding: 'utf8',
      })
      if (step.keep) {
        io.write(r.stdout ?? '')
        kept[step.keep] = (r.stdout ?? '').trim()
      }
      const failed = r.status !== 0
      if (failed !== Boolean(step.refused))
        throw new AplabError(`demo step ${i + 1} (${argv.join(' ')}) ${failed ? `failed with status ${r.status ?? r.signal}` : 'was expected to be refused'}`)
      io.write(io.note(`# ${step.note}`) + '\n')
    }
    io.write('\n' + io.note('# Done; the throwaway state is removed. Try it on your own: aplab init --preset vfio-ap-doc, then aplab matrix.') + '\n')
    return 0
  } finally {
    process.removeListener('SIGINT', onSignal)
    cleanup()
  }
}
