// Memory and speed of MemoryReplayStore at full load, without a server, so it can run beside
// bench/run.mjs (one core at a time, ~50 s; it does not start the service).
//   npx tsx --expose-gc bench/replay-store-memory.mjs [module path, default src/auth/replay-store.ts]
// The module argument lets the same script measure an older copy of the store for comparison.
//
// A fake clock drives a steady rate of first-use claims, each remembered 90 s (exp + 30 s at the
// benchmark's 60 s assertions), so the store holds N live entries once warm. For N = 550 000 and
// 900 000 (6 100 and 10 000 claims/s) a child process (so that one run's RSS does not carry into
// the next) fills the store for 90 simulated seconds and runs 90 more at steady state, twice:
// - a timed run: the time of one claimOnce (SHA-256 included), per batch of 4 096 claims, as the
//   median and 10th percentile of the batches (on a shared machine some batches also count waiting
//   for a core: the low percentile is the fairest figure to compare two versions by); the memory
//   held at the end, after a full collection; and the process's RSS growth with the store alive,
//   which also counts dead tables that nothing has freed (a quiet process like this one may not run
//   a full collection for minutes) and ~30 MB of JS heap that the run itself grows;
// - a run that forces a collection at every table allocation and after every batch: the most memory
//   the store ever had alive, i.e. including a resize holding old and new tables.
// Memory is process.memoryUsage().external: all of it is the store's ArrayBuffers here.
import { spawnSync } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { performance } from 'node:perf_hooks'

const gc = globalThis.gc
if (typeof gc !== 'function') {
  console.error('run with --expose-gc (npx tsx --expose-gc bench/replay-store-memory.mjs)')
  process.exit(2)
}
const modulePath = resolve(process.argv[2] ?? 'src/auth/replay-store.ts')

const TTL_MS = 90_000
const BATCH = 4096
const external = () => process.memoryUsage().external
const mb = (bytes) => (bytes / 1e6).toFixed(1)

// jti-like keys ("client\n" + 36 characters), made outside the timed part
let seq = 0
function keys (n) {
  const out = new Array(n)
  for (let i = 0; i < n; i++) out[i] = `bench-client\n${(++seq).toString(16).padStart(12, '0')}-4a1b-8c2d-${(seq * 2654435761 % 4294967296).toString(16).padStart(12, '0')}`
  return out
}

/** One fill + steady run. `forceGc`: sample the live peak (slow); otherwise time the claims. */
async function run (MemoryReplayStore, live, forceGc) {
  const perSecond = live / (TTL_MS / 1000)
  let now = 1_700_000_000_000
  gc(); gc()
  const ext0 = external()
  const rss0 = process.memoryUsage.rss()
  const store = new MemoryReplayStore(() => Math.floor(now))
  let peak = 0
  const sample = () => {
    if (forceGc) {
      if (external() - ext0 <= peak) return // a collection can only lower it
      gc()
    }
    peak = Math.max(peak, external() - ext0)
  }
  if (forceGc) {
    // both versions allocate the new arrays inside resize, while the old ones are still referenced
    const allocate = store.allocate
    store.allocate = function (...args) { const r = allocate.apply(this, args); sample(); return r }
  }

  let refused = 0
  async function phase (seconds) {
    const perBatch = []
    const total = Math.round(seconds * perSecond)
    for (let done = 0; done < total; done += BATCH) {
      const batch = keys(Math.min(BATCH, total - done))
      const t0 = performance.now()
      for (const key of batch) {
        if (!await store.claimOnce(key, TTL_MS)) refused++
        now += 1000 / perSecond
      }
      perBatch.push((performance.now() - t0) * 1000 / batch.length)
      sample()
    }
    perBatch.sort((a, b) => a - b)
    const at = (q) => perBatch[Math.floor(q * (perBatch.length - 1))].toFixed(2)
    return { median: at(0.5), p10: at(0.1) }
  }

  const fill = await phase(90)
  const steady = await phase(90)
  const rss = process.memoryUsage.rss() - rss0
  gc(); gc()
  const held = external() - ext0
  const size = store.size
  const tables = store.byteLength
  delete store.allocate
  await store.close()
  return { size, held, tables, rss, peak, fill, steady, refused }
}

if (process.argv[3] === '--child') {
  const { MemoryReplayStore } = await import(pathToFileURL(modulePath).href)
  const live = Number(process.argv[4])
  const timed = await run(MemoryReplayStore, live, false)
  const exact = await run(MemoryReplayStore, live, true)
  console.log(JSON.stringify({ timed, exact }))
} else {
  const perEntry = (bytes, live) => `${mb(bytes)} MB = ${(bytes / live).toFixed(1)} B/entry`
  console.log(`module: ${modulePath}  node ${process.version}`)
  for (const live of [550_000, 900_000]) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), modulePath, '--child', String(live)], { encoding: 'utf8' })
    if (child.status !== 0) throw new Error(`child for N=${live} failed: ${child.stderr}`)
    const { timed, exact } = JSON.parse(child.stdout.trim().split('\n').pop())
    console.log(`N=${live} (size ${timed.size} incl. expired not swept yet; ${timed.refused} first uses refused)`)
    console.log(`  held after a full GC    ${perEntry(timed.held, live)}${timed.tables === undefined ? '' : ` (byteLength, whole pages: ${mb(timed.tables)} MB)`}`)
    console.log(`  peak alive (GC forced)  ${perEntry(exact.peak, live)}`)
    console.log(`  RSS growth, store alive ${mb(timed.rss)} MB (no forced GC; incl. ~30 MB of JS heap)`)
    console.log(`  claimOnce µs median/p10: filling ${timed.fill.median}/${timed.fill.p10}, steady ${timed.steady.median}/${timed.steady.p10}`)
  }
}
