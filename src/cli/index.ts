#!/usr/bin/env node
// Process entry of the `jitsi-token-service` bin (dist/cli/index.js after `npm run build`).
import { nodeIo } from './io.js'
import { main } from './main.js'

process.exitCode = await main(process.argv.slice(2), nodeIo)
