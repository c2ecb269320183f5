#!/usr/bin/env node
// Drop-in dmesg: util-linux's dmesg on the emulated host's kernel ring buffer (see aplab-shell(1)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('dmesg', process.argv.slice(2))
