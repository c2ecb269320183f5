#!/usr/bin/env node
// Drop-in modprobe: kmod's modprobe on the emulated host (see aplab-shell(1)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('modprobe', process.argv.slice(2))
