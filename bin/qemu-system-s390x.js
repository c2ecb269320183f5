#!/usr/bin/env node
// Drop-in qemu-system-s390x: the QEMU model as a process; the guest runs while it runs (see aplab-shell(1)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('qemu-system-s390x', process.argv.slice(2))
