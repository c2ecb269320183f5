// bin/bundles.cjs: which code cache a call of aplab reads (its role).
import {createRequire} from 'node:module'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

const {aplabRole} = createRequire(import.meta.url)(join(import.meta.dirname, '..', '..', 'bin', 'bundles.cjs')) as {aplabRole: (argv: string[]) => string}

describe('the role of a call of aplab', () => {
  it('is the drop-in role for a drop-in run through aplab, sysfs for aplab sysfs, else aplab', () => {
    expect(aplabRole(['sysfs', 'cat', '/sys/bus/ap/apmask'])).toBe('sysfs')
    expect(aplabRole(['lszcrypt', '-b'])).toBe('lszcrypt')
    expect(aplabRole(['lsmdev'])).toBe('mdevctl')
    expect(aplabRole(['chzdev', '-t', 'ap'])).toBe('zdev')
    expect(aplabRole(['dmesg'])).toBe('modprobe')
    expect(aplabRole(['virsh', 'list'])).toBe('virsh')
    expect(aplabRole(['mdev', 'list'])).toBe('aplab')
    expect(aplabRole([])).toBe('aplab')
    expect(aplabRole(['qemu-system-s390x', '-version'])).toBe('aplab')
  })

  it('reads the words after the global options', () => {
    expect(aplabRole(['--state', 'sysfs', 'host', 'list'])).toBe('aplab')
    expect(aplabRole(['--state', 's.yaml', '--host=h1', 'sysfs', 'write', '/sys/bus/ap/apmask', '-5'])).toBe('sysfs')
    expect(aplabRole(['--host', 'h1', 'lszcrypt'])).toBe('lszcrypt')
    expect(aplabRole(['--state'])).toBe('aplab')
  })
})
