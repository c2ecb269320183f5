// The dmesg drop-in: util-linux's formats and options on the host's ring buffer.

import {afterAll, describe, expect, it} from 'vitest'

import type {LogLine} from '../../src/core/model.js'
import {DMESG_HELP, DMESG_VERSION, mayClear, runDmesg} from '../../src/tools/dmesg.js'
import {cleanSandboxes, sandbox} from './helpers.js'

afterAll(cleanSandboxes)

const LOG: LogLine[] = [
  {t: 2000, msg: 'vfio_ap matrix: MDEV: Registered'},
  {t: 6691468810, msg: 'vfio_ap_mdev 62177883-f1bb-47f0-914d-32a22e3a8804: Adding to iommu group 0'},
]
/** 2026-12-06 22:56:40 UTC. */
const BOOT = Date.UTC(2026, 11, 6, 22, 56, 40)
const ok = (stdout: string, clear = false) => ({stdout, stderr: '', code: 0, clear})
const fail = (stderr: string) => ({stdout: '', stderr, code: 1, clear: false})

describe('dmesg', () => {
  it('prints the records in its default, -t, -T and --time-format iso formats', () => {
    process.env.TZ = 'UTC'
    expect(runDmesg([], LOG, BOOT, 0)).toEqual(
      ok('[    0.002000] vfio_ap matrix: MDEV: Registered\n[ 6691.468810] vfio_ap_mdev 62177883-f1bb-47f0-914d-32a22e3a8804: Adding to iommu group 0\n'),
    )
    expect(runDmesg(['-t'], LOG, BOOT, 0).stdout).toBe(`${LOG[0].msg}\n${LOG[1].msg}\n`)
    expect(runDmesg(['-T'], LOG, BOOT, 0).stdout.split('\n')[1]).toBe(`[Mon Dec  7 00:48:11 2026] ${LOG[1].msg}`)
    expect(runDmesg(['--time-format', 'iso'], LOG, BOOT, 0).stdout.split('\n')[1]).toBe(`2026-12-07T00:48:11,468810+00:00 ${LOG[1].msg}`)
    expect(runDmesg(['--time-format=notime'], LOG, BOOT, 0).stdout).toBe(`${LOG[0].msg}\n${LOG[1].msg}\n`)
  })

  it('-C clears without printing, -c prints then clears; other users may read (dmesg_restrict=0) but not clear', () => {
    expect(runDmesg(['-C'], LOG, BOOT, 0)).toEqual(ok('', true))
    expect(runDmesg(['-c', '-t'], LOG, BOOT, 0)).toEqual(ok(`${LOG[0].msg}\n${LOG[1].msg}\n`, true))
    expect(runDmesg(['-t'], LOG, BOOT, 1000)).toEqual(ok(`${LOG[0].msg}\n${LOG[1].msg}\n`))
    // util-linux 2.38.1's writer, for records without a priority (as `dmesg -J -F` prints them).
    expect(runDmesg(['-J'], LOG, BOOT, 1000).stdout).toBe(
      '{\n   "dmesg": [\n      {\n         "time":     0.002000,\n         "msg": "vfio_ap matrix: MDEV: Registered"\n' +
        '      },{\n         "time":  6691.468810,\n         "msg": "vfio_ap_mdev 62177883-f1bb-47f0-914d-32a22e3a8804: Adding to iommu group 0"\n      }\n   ]\n}\n',
    )
    expect(runDmesg(['-J'], [], BOOT, 0)).toEqual(ok(''))
    expect(runDmesg(['-C'], LOG, BOOT, 1000)).toEqual(fail('dmesg: clear kernel buffer failed: Operation not permitted\n'))
    expect(runDmesg(['-c'], LOG, BOOT, 1000)).toEqual(fail('dmesg: read kernel buffer failed: Operation not permitted\n'))
  })

  it('clearing is asked for in every form getopt takes, and only then is the state locked', () => {
    for (const argv of [['-C'], ['-c'], ['--clea'], ['--read'], ['-tc'], ['--read-clear', '-t']]) expect([argv, mayClear(argv)]).toEqual([argv, true])
    for (const argv of [['-lcrit'], ['-t'], ['--time-format', 'ctime'], ['x', 'C']]) expect([argv, mayClear(argv)]).toEqual([argv, false])
    expect(runDmesg(['--clea'], LOG, BOOT, 0)).toEqual(ok('', true))
  })

  it("says util-linux's usage errors, help and version", () => {
    const TRY = "Try 'dmesg --help' for more information.\n"
    expect(runDmesg(['-z'], LOG, BOOT, 0)).toEqual(fail(`dmesg: invalid option -- 'z'\n${TRY}`))
    expect(runDmesg(['--foo'], LOG, BOOT, 0)).toEqual(fail(`dmesg: unrecognized option '--foo'\n${TRY}`))
    expect(runDmesg(['x'], LOG, BOOT, 0)).toEqual(fail(`dmesg: bad usage\n${TRY}`))
    expect(runDmesg(['--clear=1'], LOG, BOOT, 0)).toEqual(fail(`dmesg: option '--clear' doesn't allow an argument\n${TRY}`))
    expect(runDmesg(['--time-fo'], LOG, BOOT, 0)).toEqual(fail(`dmesg: option '--time-format' requires an argument\n${TRY}`))
    expect(runDmesg(['--time-format', 'bogus'], LOG, BOOT, 0)).toEqual(fail('dmesg: unknown time format: bogus\n'))
    expect(runDmesg(['-V'], LOG, BOOT, 0)).toEqual(ok(DMESG_VERSION))
    expect(runDmesg(['--help'], LOG, BOOT, 0)).toEqual(ok(DMESG_HELP))
    expect(DMESG_HELP.startsWith('\nUsage:\n dmesg [options]\n\nDisplay or control the kernel ring buffer.\n')).toBe(true)
  })

  it('the drop-in reads and clears the host of $APLAB_STATE', async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    const r = await s.run('dmesg', ['-t'])
    expect(r).toEqual({stdout: 'vfio_ap matrix: MDEV: Registered\n', stderr: '', exitCode: 0})
    expect((await s.run('aplab', ['dmesg'])).stdout).toMatch(/^\[ +\d+\.\d{6}\] vfio_ap matrix: MDEV: Registered\n$/)
    expect(await s.run('dmesg', ['-C'])).toEqual({stdout: '', stderr: '', exitCode: 0})
    expect((await s.run('dmesg', [])).stdout).toBe('')
  })
})
