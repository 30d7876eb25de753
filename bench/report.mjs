// Markdown for bench/results.md from the results object bench/run.mjs writes to results.json.

const ORDER = ['hello', 'client-ceiling', 'visits-2p', 'visits-10p', 'tokens', 'visits-2p-redis', 'visits-2p-rs256']
const fmt = (n) => n === undefined || n === null ? '–' : typeof n === 'number' ? n.toLocaleString('en-US') : String(n)

export function renderMarkdown (results) {
  const { meta, scenarios = {}, coldStart, soak } = results
  const hello = scenarios.hello?.okPerSec
  const lines = []
  lines.push(`# Benchmark results${meta.smoke ? ' (smoke run: 1 s per scenario, not a measurement)' : ''}`, '')
  lines.push(`Commit \`${meta.commit}\`${meta.dirty ? ' (+ uncommitted src changes)' : ''}, Node ${meta.node}${meta.nodeOptions ? ` (service: \`NODE_OPTIONS=${meta.nodeOptions}\`, as in the image)` : ''}, ${meta.cpu} × ${meta.cores}; ` +
    `server ${meta.pinned ? 'pinned to core 0 (`taskset -c 0`), load generator on core 1' : 'and load generator not pinned'}; ` +
    `autocannon, ${meta.connections} connections, ${meta.duration} s per scenario after a ${meta.warmup} s warm-up; ` +
    `every request a fresh body and a fresh signed assertion. Load average at start ${meta.loadAvgAtStart?.join(' / ')}.`, '')
  lines.push('| scenario | req/s (2xx) | × hello | p50 ms | p97.5 ms | p99 ms | non-2xx | errors | RSS idle → after (MB) | server CPU µs/req (core busy) |')
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---|---:|')
  const names = [...ORDER.filter((n) => n in scenarios), ...Object.keys(scenarios).filter((n) => !ORDER.includes(n))]
  for (const name of names) {
    const r = scenarios[name]
    if (r.skipped !== undefined) { lines.push(`| ${name} | skipped: ${r.skipped} | | | | | | | | |`); continue }
    if (r.error !== undefined) { lines.push(`| ${name} | error: ${String(r.error).replace(/\|/gu, '/').slice(0, 120)} | | | | | | | | |`); continue }
    const ratio = hello ? (r.okPerSec / hello).toFixed(2) : '–'
    const errors = r.errors + (r.timeouts ?? 0)
    const cpu = r.serverCpuUsPerReq !== undefined && r.serverCpuUsPerReq !== null ? `${r.serverCpuUsPerReq} (${Math.round(r.serverCpuUtil * 100)} %)` : '–'
    lines.push(`| ${name} | ${fmt(r.okPerSec)} | ${name === 'hello' ? '1.00' : ratio} | ${r.latencyMs.p50} | ${r.latencyMs.p97_5} | ${r.latencyMs.p99} | ${fmt(r.non2xx)} | ${fmt(errors)} | ${fmt(r.rssIdleMb)} → ${fmt(r.rssAfterMb)} | ${cpu} |`)
  }
  lines.push('')
  for (const name of names) {
    const r = scenarios[name]
    if (r.title !== undefined) lines.push(`- **${name}**: ${r.title}${r.loadAvg1 !== undefined ? ` (load avg ${r.loadAvg1} at start)` : ''}${r.poolMisses || r.poolStale ? `; ${(r.poolMisses ?? 0) + (r.poolStale ?? 0)} assertions signed during the run (pool ran out or went stale)` : ''}${r.non2xx ? `; status codes ${JSON.stringify(r.statusCodes)}` : ''}`)
  }
  if (coldStart !== undefined) {
    lines.push('', `**Cold start** (spawn → \`/readyz\` 200, HS256, in-memory replay store): median **${coldStart.medianMs} ms** of ${coldStart.runs.length} (${coldStart.runs.join(', ')} ms).`)
  }
  if (soak !== undefined) {
    lines.push('', `**Soak** (${soak.scenario}, ${soak.connections} connections, commit \`${soak.commit}\`${soak.nodeArgs ? `, node ${soak.nodeArgs}` : ''}, ${soak.at}; the "req/s" of a 100k chunk is rounded by autocannon's 1 s ticker)${soak.error !== undefined ? `: error ${soak.error}` : ''}`, '')
    lines.push('| requests | RSS MB | heap used / total MB | external MB | ≈ req/s | p99 ms | non-2xx |', '|---:|---:|---:|---:|---:|---:|---:|')
    for (const s of soak.samples ?? []) lines.push(`| ${fmt(s.requests)} | ${fmt(s.rssMb)} | ${fmt(s.heapUsedMb)} / ${fmt(s.heapTotalMb)} | ${fmt(s.externalMb)} | ${fmt(s.reqPerSec)} | ${fmt(s.p99)} | ${fmt(s.non2xx)} |`)
  }
  lines.push('', 'Reproduce: `npm run bench` (all scenarios and cold start), `npm run bench -- --soak` (RSS over 1 M requests), `npm run bench -- --only visits-2p --duration 20`. Before/after tables, targets and what made the difference: docs/performance.md.', '')
  return lines.join('\n')
}
