// npm run openapi: writes openapi.yaml from the routes' zod schemas (the served /openapi.json).
// `--check` exits 1 when the committed file differs, which CI runs to catch drift.
import { readFileSync, writeFileSync } from 'node:fs'
import { buildApp } from '../src/app.js'
import { openapiConfig } from './openapi-config.js'

const app = await buildApp(openapiConfig(), { logger: undefined })
await app.ready()
const yaml = app.swagger({ yaml: true })
await app.close()

const path = new URL('../openapi.yaml', import.meta.url)
if (process.argv.includes('--check')) {
  let committed = ''
  try { committed = readFileSync(path, 'utf8') } catch { /* missing counts as drift */ }
  if (committed !== yaml) {
    console.error('openapi.yaml is out of date: run `npm run openapi` and commit the result')
    process.exit(1)
  }
  console.log('openapi.yaml is up to date')
} else {
  writeFileSync(path, yaml)
  console.log('wrote openapi.yaml')
}
