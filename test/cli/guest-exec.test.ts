// `aplab guest exec NAME -- dmesg ...`: util-linux's dmesg on the guest's own
// ring buffer, its options honoured, clearing for root only.

import {describe, expect, it} from 'vitest'

import {execIn, execMutates} from '../../src/cli/guest.js'
import {startGuest} from '../../src/core/guest.js'
import {preset} from '../../src/core/presets.js'

function guest() {
  const h = preset('vfio-ap-doc').build('h')
  const w = {current: 'h', hosts: [h]}
  const g = startGuest(w, h, {name: 'g', managed: 'qemu', autostart: false, args: [], cpuModel: 'host', features: {ap: false, apqci: false, apft: false, apqi: false}, devices: []})
  return {h, g}
}

describe('dmesg in a guest', () => {
  it("prints the guest's log with dmesg's options; -C clears it for root; a user gets util-linux's refusal", async () => {
    const {h, g} = guest()
    expect(await execIn(h, g, ['dmesg', '-t'], 0)).toEqual({stdout: 'ap: The hardware system does not support AP instructions\n', stderr: '', code: 0})
    expect(await execIn(h, g, ['dmesg', '-C'], 1000)).toEqual({stdout: '', stderr: 'dmesg: clear kernel buffer failed: Operation not permitted\n', code: 1})
    expect(g.runtime.dmesg).toHaveLength(1)
    expect(await execIn(h, g, ['dmesg', '-C'], 0)).toEqual({stdout: '', stderr: '', code: 0})
    expect(g.runtime.dmesg).toEqual([])
    expect(await execIn(h, g, ['dmesg', '-z'], 0)).toEqual({stdout: '', stderr: "dmesg: invalid option -- 'z'\nTry 'dmesg --help' for more information.\n", code: 1})
  })
  it('only a clearing dmesg needs the state lock', () => {
    expect(execMutates(['dmesg', '-T'])).toBe(false)
    expect(execMutates(['dmesg', '-C'])).toBe(true)
    expect(execMutates(['aplab', 'dmesg', '--read-clear'])).toBe(true)
    expect(execMutates(['dmesg', '-tc'])).toBe(true)
  })
})
