#!/usr/bin/env node
// Drop-in lsmod: kmod's lsmod on the emulated host (see aplab-shell(1)).
process.removeAllListeners('warning')
const {dropInMain} = await import('../dist/main.bundle.js')
await dropInMain('lsmod', process.argv.slice(2))
