// node bench/compare.mjs <before.json[,before2.json…]> <after.json[,after2.json…]>
// Markdown before/after table: req/s (2xx), ratio to hello, p99, server CPU µs/req, RSS after the run.
// Several files per side: each scenario is taken from the run where it was fastest (best of N,
// for a machine shared with other jobs), hello included; cold start from the run with the lowest median.
import { readFileSync } from 'node:fs'

function bestOf (list) {
  const runs = list.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')))
  const merged = { meta: runs[0].meta, scenarios: {}, coldStart: undefined, runs: runs.length }
  for (const run of runs) {
    for (const [name, r] of Object.entries(run.scenarios)) {
      if (r.okPerSec === undefined) continue
      if (merged.scenarios[name] === undefined || r.okPerSec > merged.scenarios[name].okPerSec) merged.scenarios[name] = r
    }
    if (run.coldStart !== undefined && (merged.coldStart === undefined || run.coldStart.medianMs < merged.coldStart.medianMs)) merged.coldStart = run.coldStart
  }
  merged.loads = runs.map((r) => `${r.meta.loadAvgAtStart?.[0]}→${r.meta.loadAvgAtEnd?.[0]}`)
  return merged
}

const [beforeFiles, afterFiles] = process.argv.slice(2)
const before = bestOf(beforeFiles)
const after = bestOf(afterFiles)
const ratio = (res, name) => {
  const hello = res.scenarios.hello?.okPerSec
  const r = res.scenarios[name]
  return hello && r?.okPerSec !== undefined ? (r.okPerSec / hello).toFixed(3) : '–'
}
const n = (v) => v === undefined || v === null ? '–' : typeof v === 'number' ? v.toLocaleString('en-US') : String(v)
const names = Object.keys(after.scenarios).filter((k) => k in before.scenarios)
const lines = [
  '| scenario | req/s before → after | × hello before → after | p99 ms before → after | server CPU µs/req before → after | RSS after run MB before → after |',
  '|---|---:|---:|---:|---:|---:|'
]
for (const name of names) {
  const b = before.scenarios[name]
  const a = after.scenarios[name]
  if (b.okPerSec === undefined || a.okPerSec === undefined) continue
  const speedup = b.okPerSec > 0 ? ` (${(a.okPerSec / b.okPerSec).toFixed(1)}×)` : ''
  lines.push(`| ${name} | ${n(b.okPerSec)} → ${n(a.okPerSec)}${speedup} | ${ratio(before, name)} → ${ratio(after, name)} | ${b.latencyMs.p99} → ${a.latencyMs.p99} | ${n(b.serverCpuUsPerReq)} → ${n(a.serverCpuUsPerReq)} | ${n(b.rssAfterMb)} → ${n(a.rssAfterMb)} |`)
}
if (before.coldStart && after.coldStart) lines.push(`| cold start (spawn → /readyz 200, median of ${after.coldStart.runs.length}) | ${before.coldStart.medianMs} ms → ${after.coldStart.medianMs} ms | | | | |`)
console.log(lines.join('\n'))
console.log(`\nbefore: commit ${before.meta.commit || '?'}, best of ${before.runs} (1-min load avg ${before.loads.join(', ')}); after: commit ${after.meta.commit || '?'}, best of ${after.runs} (1-min load avg ${after.loads.join(', ')})`)
