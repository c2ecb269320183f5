// qemu-system-s390x -daemonize and stdio chardevs (system/vl.c
// qemu_create_default_devices, chardev/char-stdio.c, serial_parse): every
// line QEMU prints, in order, before anything starts.

import {describe, expect, it} from 'vitest'

import {OptionRefusal, processOptions} from '../../src/live/qemu/options.js'

const refusal = (argv: string[]): string | null => {
  try {
    processOptions(argv, '/')
    return null
  } catch (e) {
    if (e instanceof OptionRefusal) return e.stderr
    throw e
  }
}

describe('-daemonize with stdio', () => {
  it('refuses every stdio chardev at its option', () => {
    expect(refusal(['-daemonize', '-monitor', 'stdio'])).toBe('qemu-system-s390x: -monitor stdio: cannot use stdio with -daemonize\n')
    expect(refusal(['-qmp', 'stdio', '-daemonize'])).toBe('qemu-system-s390x: -qmp stdio: cannot use stdio with -daemonize\n')
    expect(refusal(['-daemonize', '-chardev', 'stdio,id=c0'])).toBe('qemu-system-s390x: -chardev stdio,id=c0: cannot use stdio with -daemonize\n')
    expect(refusal(['-daemonize', '-chardev', 'id=c0,backend=stdio,signal=off'])).toBe('qemu-system-s390x: -chardev id=c0,backend=stdio,signal=off: cannot use stdio with -daemonize\n')
  })

  it('a serial port on stdio: the chardev\'s error, then the port\'s', () => {
    const two = (spec: string): string =>
      `qemu-system-s390x: -serial ${spec}: cannot use stdio with -daemonize\nqemu-system-s390x: -serial ${spec}: could not connect serial device to character backend '${spec}'\n`
    expect(refusal(['-daemonize', '-serial', 'stdio'])).toBe(two('stdio'))
    expect(refusal(['-serial', 'mon:stdio', '-daemonize'])).toBe(two('mon:stdio'))
    expect(refusal(['-daemonize', '-serial', 'none', '-serial', 'stdio'])).toBe(two('stdio'))
  })

  it('chardevs are created before serial ports, in command-line order', () => {
    expect(refusal(['-daemonize', '-serial', 'stdio', '-chardev', 'stdio,id=c0', '-monitor', 'stdio'])).toBe('qemu-system-s390x: -chardev stdio,id=c0: cannot use stdio with -daemonize\n')
    expect(refusal(['-daemonize', '-serial', 'stdio', '-qmp', 'stdio', '-chardev', 'stdio,id=c0'])).toBe('qemu-system-s390x: -qmp stdio: cannot use stdio with -daemonize\n')
  })

  it('-nographic comes first, unless the serial port and the monitor are both given (then it is a no-op)', () => {
    const nographic = 'qemu-system-s390x: -nographic cannot be used with -daemonize\n'
    expect(refusal(['-daemonize', '-nographic', '-monitor', 'stdio'])).toBe(nographic)
    expect(refusal(['-daemonize', '-nographic', '-serial', 'stdio'])).toBe(nographic)
    expect(refusal(['-nographic', '-daemonize', '-serial', 'none', '-monitor', 'none'])).toBeNull()
    expect(refusal(['-nographic', '-daemonize', '-serial', 'none', '-qmp', 'none'])).toBeNull()
    expect(refusal(['-nographic', '-daemonize', '-serial', 'mon:stdio'])).toBe(
      "qemu-system-s390x: -serial mon:stdio: cannot use stdio with -daemonize\nqemu-system-s390x: -serial mon:stdio: could not connect serial device to character backend 'mon:stdio'\n",
    )
    expect(refusal(['-nographic', '-daemonize', '-nodefaults'])).toBeNull()
  })

  it('without -daemonize, or without stdio, nothing is refused', () => {
    expect(refusal(['-serial', 'stdio', '-chardev', 'stdio,id=c0'])).toBeNull()
    expect(refusal(['-daemonize', '-serial', 'null', '-chardev', 'null,id=c0', '-monitor', 'none'])).toBeNull()
    expect(processOptions(['-daemonize', '-serial', 'none'], '/')).toMatchObject({daemonize: true, monitors: []})
  })
})
