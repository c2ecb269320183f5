#!/usr/bin/env node
// Drop-in virsh: libvirt 11's virsh for the QEMU driver on the emulated host (see virsh(1)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('virsh', process.argv.slice(2))
