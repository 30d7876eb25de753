#!/usr/bin/env node
// Offline validation of rendered Kubernetes manifests (tooling.md §5: kubectl needs an API server).
//
//   helm template rel helm/ --kube-version 1.29.0 | node scripts/validate-k8s.mjs [--label name]
//   node scripts/validate-k8s.mjs rendered.yaml ...
//
// For every YAML document:
//   1. schema: kubernetes-models' compiled OpenAPI validators (types, required fields, enums);
//   2. unknown fields: the validators read every field they know, so a field they never read is
//      one the API server would drop silently (a typo like `readOnlyRootFileSystem` loses the
//      hardening without an error). Found by watching the validator through a Proxy;
//   3. CRDs without a model (ServiceMonitor): a structural check written here, named in the output;
//   4. chart invariants: selectors match pod labels, pods run hardened, no duplicate objects.
// Exit 1 on any problem.
import { readFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'

const args = process.argv.slice(2)
const labelAt = args.indexOf('--label')
const label = labelAt >= 0 ? args.splice(labelAt, 2)[1] : undefined
const input = args.length > 0 ? args.map((f) => readFileSync(f, 'utf8')).join('\n---\n') : readFileSync(0, 'utf8')
const tag = label ? `[${label}] ` : ''

const problems = []
const notes = []
const report = (where, msg) => problems.push(`${where}: ${msg}`)

// Fields the validators do not descend into on purpose: free-form maps and opaque values.
const FREE_FORM = [/\/metadata\/(labels|annotations)$/u, /\/data$/u, /\/stringData$/u, /\/matchLabels$/u, /\/nodeSelector$/u, /\/(limits|requests)$/u]

/** Wraps a document so every property the validator reads is recorded, per object. */
function tracked (root) {
  const objects = []
  const proxies = new WeakMap()
  const wrap = (value, path) => {
    if (value === null || typeof value !== 'object') return value
    const known = proxies.get(value)
    if (known) return known
    const read = new Set()
    if (!Array.isArray(value)) objects.push({ path, value, read })
    const proxy = new Proxy(value, {
      get (target, key, receiver) {
        const v = Reflect.get(target, key, receiver)
        if (typeof key !== 'string') return v
        read.add(key)
        return Object.hasOwn(target, key) ? wrap(v, `${path}/${key}`) : v
      },
      ownKeys (target) {
        for (const k of Reflect.ownKeys(target)) if (typeof k === 'string') read.add(k)
        return Reflect.ownKeys(target)
      }
    })
    proxies.set(value, proxy)
    return proxy
  }
  return { proxy: wrap(root, ''), unread: () => objects.flatMap(({ path, value, read }) =>
    path === '' || FREE_FORM.some((re) => re.test(path)) ? [] : Object.keys(value).filter((k) => !read.has(k)).map((k) => `${path}/${k}`)) }
}

async function modelFor (apiVersion, kind) {
  // kubernetes-models/<group>/<version>/<Kind>; the core group is just <version>
  try {
    const mod = await import(`kubernetes-models/${apiVersion}/${kind}`)
    return mod[kind]
  } catch (err) {
    if (err.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || err.code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw err
  }
}

const DURATION = /^[0-9]+(ms|s|m|h)$/u
/** monitoring.coreos.com/v1 ServiceMonitor: the fields Prometheus Operator requires, and their types. */
function checkServiceMonitor (doc, where) {
  const spec = doc.spec
  if (!spec || typeof spec !== 'object') return report(where, 'spec is required')
  if (!spec.selector || typeof spec.selector !== 'object') report(where, 'spec.selector is required')
  if (!Array.isArray(spec.endpoints) || spec.endpoints.length === 0) return report(where, 'spec.endpoints must be a non-empty array')
  const allowed = new Set(['port', 'targetPort', 'path', 'scheme', 'interval', 'scrapeTimeout', 'relabelings', 'metricRelabelings', 'honorLabels', 'honorTimestamps', 'tlsConfig', 'bearerTokenSecret', 'authorization', 'basicAuth', 'params', 'proxyUrl', 'followRedirects', 'enableHttp2', 'filterRunning', 'oauth2'])
  spec.endpoints.forEach((ep, i) => {
    const at = `${where} spec.endpoints[${i}]`
    if (ep.port === undefined && ep.targetPort === undefined) report(at, 'needs port or targetPort')
    if (ep.port !== undefined && typeof ep.port !== 'string') report(at, 'port must be a port name (string)')
    for (const f of ['interval', 'scrapeTimeout']) if (ep[f] !== undefined && !DURATION.test(ep[f])) report(at, `${f} must be a duration like 30s`)
    if (ep.scheme !== undefined && !['http', 'https'].includes(ep.scheme)) report(at, 'scheme must be http or https')
    for (const f of ['relabelings', 'metricRelabelings']) if (ep[f] !== undefined && !Array.isArray(ep[f])) report(at, `${f} must be an array`)
    for (const k of Object.keys(ep)) if (!allowed.has(k)) report(at, `unknown field ${k}`)
  })
  if (spec.namespaceSelector !== undefined && !(Array.isArray(spec.namespaceSelector.matchNames) || spec.namespaceSelector.any === true)) {
    report(where, 'spec.namespaceSelector needs matchNames or any: true')
  }
}
const CRD_CHECKS = { 'monitoring.coreos.com/v1/ServiceMonitor': checkServiceMonitor }

/** The hardening the chart promises, checked on every pod it renders (Deployment and test Pods). */
function checkPodHardening (podSpec, where) {
  if (podSpec.automountServiceAccountToken !== false) report(where, 'automountServiceAccountToken must be false')
  const podSc = podSpec.securityContext ?? {}
  for (const c of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]) {
    const sc = c.securityContext ?? {}
    const at = `${where} container ${c.name}`
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) report(at, 'runAsNonRoot must be true')
    if (sc.readOnlyRootFilesystem !== true) report(at, 'readOnlyRootFilesystem must be true')
    if (sc.allowPrivilegeEscalation !== false) report(at, 'allowPrivilegeEscalation must be false')
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) report(at, 'capabilities.drop must include ALL')
    if ((sc.seccompProfile ?? podSc.seccompProfile)?.type !== 'RuntimeDefault') report(at, 'seccompProfile must be RuntimeDefault')
    if (!c.resources?.limits?.memory) report(at, 'needs a memory limit')
  }
}

const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v)

const docs = parseAllDocuments(input)
const objects = []
for (const [i, d] of docs.entries()) {
  if (d.errors.length > 0) {
    report(`document ${i + 1}`, `YAML: ${d.errors.map((e) => e.message).join('; ')}`)
    continue
  }
  const doc = d.toJS()
  if (doc === null || doc === undefined) continue
  const where = `${doc.kind ?? '?'}/${doc.metadata?.name ?? `#${i + 1}`}`
  if (typeof doc !== 'object' || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
    report(where, 'apiVersion and kind are required')
    continue
  }
  objects.push(doc)
  const crdCheck = CRD_CHECKS[`${doc.apiVersion}/${doc.kind}`]
  if (crdCheck) {
    crdCheck(doc, where)
    notes.push(`${where}: ${doc.apiVersion} is a CRD without a bundled schema; structural check only`)
    continue
  }
  const Model = await modelFor(doc.apiVersion, doc.kind)
  if (!Model) {
    report(where, `no schema for ${doc.apiVersion} ${doc.kind} (unknown kind or API version)`)
    continue
  }
  const { proxy, unread } = tracked(doc)
  try {
    Model.prototype.validate.call(proxy)
  } catch (err) {
    report(where, err.message)
  }
  for (const path of unread()) report(where, `unknown field ${path} (the API server would drop it)`)
}

// Cross-object invariants.
const seen = new Set()
for (const o of objects) {
  const id = `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`
  if (seen.has(id)) report(`${o.kind}/${o.metadata?.name}`, 'rendered twice')
  seen.add(id)
  const where = `${o.kind}/${o.metadata?.name}`
  if (o.kind === 'Deployment') {
    const podLabels = o.spec?.template?.metadata?.labels
    if (!matches(o.spec?.selector?.matchLabels, podLabels)) report(where, 'spec.selector does not match the pod labels')
    checkPodHardening(o.spec?.template?.spec ?? {}, where)
    for (const svc of objects.filter((s) => s.kind === 'Service')) {
      if (!matches(svc.spec?.selector, podLabels)) report(`Service/${svc.metadata?.name}`, `selector does not match ${where}'s pods`)
    }
    for (const pol of objects.filter((p) => ['PodDisruptionBudget', 'NetworkPolicy'].includes(p.kind))) {
      const sel = pol.kind === 'NetworkPolicy' ? pol.spec?.podSelector?.matchLabels : pol.spec?.selector?.matchLabels
      if (!matches(sel, podLabels)) report(`${pol.kind}/${pol.metadata?.name}`, `selector does not match ${where}'s pods`)
    }
  }
  if (o.kind === 'Pod') checkPodHardening(o.spec ?? {}, where)
}

for (const n of notes) console.log(`${tag}note: ${n}`)
if (problems.length > 0) {
  for (const p of problems) console.error(`${tag}error: ${p}`)
  console.error(`${tag}${problems.length} problem(s) in ${objects.length} object(s)`)
  process.exit(1)
}
console.log(`${tag}ok: ${objects.length} object(s) valid (${[...new Set(objects.map((o) => o.kind))].join(', ')})`)
