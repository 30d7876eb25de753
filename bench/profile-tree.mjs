// node bench/profile-tree.mjs <file.cpuprofile> [minPercent=1] [maxDepth=40]
// Top-down tree of a V8 CPU profile: every frame with at least minPercent inclusive time.
import { readFileSync } from 'node:fs'

const [file, minArg, depthArg] = process.argv.slice(2)
const min = Number(minArg ?? 1)
const maxDepth = Number(depthArg ?? 40)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0))
const total = [...self.values()].reduce((a, b) => a + b, 0)
const incl = new Map()
const inclusive = (id) => {
  if (incl.has(id)) return incl.get(id)
  const n = byId.get(id)
  const v = (self.get(id) ?? 0) + (n.children ?? []).reduce((a, c) => a + inclusive(c), 0)
  incl.set(id, v)
  return v
}
const label = (cf) => `${cf.functionName || '(anon)'} ${cf.url.replace(/^.*node_modules\//u, '').replace(/^file:\/\/.*\/dist\//u, 'app:')}:${cf.lineNumber + 1}`
function walk (id, depth) {
  const n = byId.get(id)
  const v = inclusive(id)
  if (100 * v / total < min || depth > maxDepth) return
  console.log(`${' '.repeat(depth)}${(100 * v / total).toFixed(1)}% (self ${(100 * (self.get(id) ?? 0) / total).toFixed(1)}) ${label(n.callFrame)}`)
  for (const c of [...(n.children ?? [])].sort((a, b) => inclusive(b) - inclusive(a))) walk(c, depth + 1)
}
walk(profile.nodes[0].id, 0)
