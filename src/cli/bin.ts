#!/usr/bin/env node
import { relaunchWithNodeFlags } from './node-flags.ts'

// Before anything else is loaded: a relaunch replaces this process.
relaunchWithNodeFlags()
const { main } = await import('./main.ts')
process.exitCode = await main(process.argv)
