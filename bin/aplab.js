#!/usr/bin/env node
// aplab: an emulated IBM Z KVM host for AP crypto pass-through (see aplab(1)).
process.removeAllListeners('warning')
const {aplabMain} = await import('../dist/main.bundle.js')
await aplabMain(process.argv.slice(2))
