#!/usr/bin/env node
// Drop-in modprobe: kmod's modprobe on the emulated host (see aplab-shell(1)).
process.removeAllListeners('warning')
const {liveDropInMain} = await import('../dist/live/dropins.js')
await liveDropInMain('modprobe', process.argv.slice(2))
