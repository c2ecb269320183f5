#!/usr/bin/env node
// Drop-in modprobe: kmod's modprobe on the emulated host (see aplab-shell(1)).
process.removeAllListeners('warning')
const {dropInMain} = await import('../dist/main.bundle.js')
await dropInMain('modprobe', process.argv.slice(2))
