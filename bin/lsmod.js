#!/usr/bin/env node
// Drop-in lsmod: kmod's lsmod on the emulated host (see aplab-shell(1)).
process.removeAllListeners('warning')
const {liveDropInMain} = await import('../dist/live/dropins.js')
await liveDropInMain('lsmod', process.argv.slice(2))
