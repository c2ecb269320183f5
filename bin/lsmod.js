#!/usr/bin/env node
// Drop-in lsmod: kmod's lsmod on the emulated host (see aplab-shell(1)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('lsmod', process.argv.slice(2))
