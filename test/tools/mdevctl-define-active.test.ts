// mdevctl define of an active vfio_ap mdev, with s390-tools' ap-check as the
// get-attributes callout (issue 13: what the real pair does with an empty
// matrix). ap-check 2.43.0 prints the attributes as "[{...},{...}]\n"; for an
// empty matrix that is "[{}]\n". mdevctl 1.4.0 maps only the exact text
// "[{}]" to no attributes, so with the newline it parses one attribute
// object with no field and fails, as aplab does.

import {describe, expect, it} from 'vitest'

import type {Host} from '../../src/core/model.js'
import {preset} from '../../src/core/presets.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {hostCallout} from '../../src/tools/apcheck.js'
import {Stdio} from '../../src/tools/libc.js'
import {runMdevctl} from '../../src/tools/mdevctl/main.js'

const U = '62177883-f1bb-47f0-914d-32a22e3a8804'
const MATRIX = `/sys/devices/vfio_ap/matrix/${U}`

function mdevctl(h: Host, ...argv: string[]) {
  const vfs = hostVfs(h)
  const io = new Stdio(true)
  const code = runMdevctl(argv, {fs: vfs, root: '', prog: 'mdevctl', callout: hostCallout(vfs), newUuid: () => U}, io)
  return {stdout: io.stdout, stderr: io.stderr, code}
}

function activeMdev(): Host {
  const h = preset('vfio-ap-doc').build('h')
  const v = hostVfs(h)
  v.write('/sys/bus/ap/apmask', '-5,-6\n')
  v.write('/sys/bus/ap/aqmask', '-4,-0x47\n')
  v.write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', U)
  return h
}

describe('mdevctl define -u UUID --auto of an active mdev', () => {
  it('with an empty matrix: ap-check prints "[{}]\\n", which mdevctl 1.4.0 refuses, and nothing is defined', () => {
    const h = activeMdev()
    expect(mdevctl(h, 'define', '-u', U, '--auto')).toEqual({stdout: '', stderr: 'Error: invalid JSON format for attribute: too many fields\n', code: 1})
    expect(Object.keys(h.persistent.files).filter((f) => f.includes(U))).toEqual([])
  })
  it('with a matrix: the definition holds its attributes in ap-check order (adapters, domains, control domains)', () => {
    const h = activeMdev()
    const v = hostVfs(h)
    v.write(`${MATRIX}/assign_adapter`, '6\n')
    v.write(`${MATRIX}/assign_adapter`, '5\n')
    v.write(`${MATRIX}/assign_domain`, '0x47\n')
    v.write(`${MATRIX}/assign_control_domain`, '0x47\n')
    expect(mdevctl(h, 'define', '-u', U, '--auto')).toEqual({stdout: '', stderr: '', code: 0})
    expect(JSON.parse(h.persistent.files[`/etc/mdevctl.d/matrix/${U}`])).toEqual({
      mdev_type: 'vfio_ap-passthrough',
      start: 'auto',
      attrs: [{assign_adapter: '5'}, {assign_adapter: '6'}, {assign_domain: '71'}, {assign_control_domain: '71'}],
    })
  })
})
