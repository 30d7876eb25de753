// node bench/profile-top.mjs <file.cpuprofile> [N]
// Top self-time functions and self time per package of a V8 CPU profile (node --cpu-prof).
import { readFileSync } from 'node:fs'

const [file, nArg] = process.argv.slice(2)
const top = Number(nArg ?? 30)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map()
const deltas = profile.timeDeltas
for (let i = 0; i < profile.samples.length; i++) selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (deltas[i] ?? 0))
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)

const where = (cf) => {
  const url = cf.url.replace(/^file:\/\//u, '')
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/u.exec(url)
  if (m) return m[1]
  if (url.includes('/dist/')) return 'app:' + url.slice(url.indexOf('/dist/') + 6)
  if (url.startsWith('node:')) return url
  return url === '' ? '(native/vm)' : url.slice(-40)
}
const fns = new Map()
const pkgs = new Map()
for (const [id, us] of selfUs) {
  const cf = byId.get(id).callFrame
  const key = `${cf.functionName || '(anonymous)'}  ${where(cf)}:${cf.lineNumber + 1}`
  fns.set(key, (fns.get(key) ?? 0) + us)
  const pkg = where(cf).replace(/:.*$/u, (s) => s.startsWith(':') ? '' : s)
  pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us)
}
const pct = (us) => (100 * us / total).toFixed(1).padStart(5) + '%'
console.log(`total sampled ${(total / 1e6).toFixed(2)} s\n\nself time by function:`)
for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(us), k)
console.log('\nself time by package / file:')
for (const [k, us] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(us), k)

// inclusive time for a few interesting frames (by function name substring), if asked: PROFILE_INCL=a,b
const wanted = (process.env.PROFILE_INCL ?? '').split(',').filter(Boolean)
if (wanted.length > 0) {
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const incl = new Map(wanted.map((w) => [w, 0]))
  for (const [id, us] of selfUs) {
    const hit = new Set()
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const name = byId.get(cur).callFrame.functionName
      for (const w of wanted) if (name.includes(w)) hit.add(w)
    }
    for (const w of hit) incl.set(w, incl.get(w) + us)
  }
  console.log('\ninclusive:')
  for (const [w, us] of incl) console.log(pct(us), w)
}
