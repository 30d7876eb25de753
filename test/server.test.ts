// The real entry point as a process: bad config exits before listening; SIGTERM under steady
// traffic drains (readiness false → SHUTDOWN_DELAY_MS → close) with no failed request.
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { assertion, testEnv, visitBody } from './helper.js'
import { freePort } from './fixtures/redis-server.js'

const ENTRY = ['--import', 'tsx', 'src/server.ts']

t.test('bad configuration: exit 1 before listening, names variables, never values', async (t) => {
  const leaked = 'changeme-this-is-not-a-real-secret-value'
  const child = spawn(process.execPath, ENTRY, { env: { ...process.env, ...testEnv({ JWT_APP_SECRET: leaked, JITSI_BASE_URL: 'http://meet.example.org', PORT: String(await freePort()) }) }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise((resolve) => child.on('exit', resolve))
  t.equal(code, 1)
  t.match(out, /JWT_APP_SECRET is a placeholder value/)
  t.match(out, /JITSI_BASE_URL must use https:/)
  t.notMatch(out, leaked)
  t.notMatch(out, /listening/i)
})

t.test('SIGTERM under steady traffic: readiness flips, no request fails, clean exit', async (t) => {
  const port = await freePort()
  const delayMs = 1500
  const child = spawn(process.execPath, ENTRY, {
    env: { ...process.env, ...testEnv({ PORT: String(port), HOST: '127.0.0.1', SHUTDOWN_DELAY_MS: String(delayMs), LOG_LEVEL: 'warn', RATE_LIMIT_IP_MAX: '100000', RATE_LIMIT_CLIENT_MAX: '100000' }) },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/readyz`)).status === 200) break } catch { /* not listening yet */ }
    await sleep(100)
  }

  // 4 unthrottled workers send well over the default 600 requests/min per IP: limits are raised above
  const outcomes: Array<number | string> = []
  let sending = true
  const worker = async () => {
    while (sending) {
      const body = JSON.stringify(visitBody({ start: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z') }))
      const token = await assertion({ body, now: Math.floor(Date.now() / 1000) })
      try {
        const res = await fetch(`${base}/v1/visits`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body })
        outcomes.push(res.status)
        await res.arrayBuffer()
      } catch (err) {
        outcomes.push((err as Error & { cause?: { code?: string } }).cause?.code ?? 'error')
      }
    }
  }
  const workers = Array.from({ length: 4 }, worker)
  await sleep(500)

  const sigtermAt = Date.now()
  child.kill('SIGTERM')
  let notReadyAfter = -1
  for (let i = 0; i < 50 && notReadyAfter < 0; i++) {
    const res = await fetch(`${base}/readyz`)
    if (res.status === 503) notReadyAfter = Date.now() - sigtermAt
    else await sleep(20)
  }
  // Kubernetes removes the endpoint shortly after readiness fails; the EMR then stops reaching this pod.
  await sleep(500)
  sending = false
  await Promise.all(workers)
  const code = await exited
  const exitAfter = Date.now() - sigtermAt

  const failures = outcomes.filter((o) => o !== 200 && o !== 503)
  t.ok(outcomes.length > 20, `${outcomes.length} requests sent during the test`)
  t.same(failures, [], 'no request failed (503 would be retryable)')
  t.ok(notReadyAfter >= 0 && notReadyAfter < 500, `readiness false ${notReadyAfter} ms after SIGTERM`)
  t.equal(code, 0, 'clean exit')
  t.ok(exitAfter >= delayMs && exitAfter < delayMs + 5000, `exited ${exitAfter} ms after SIGTERM (delay ${delayMs} ms)`)
  t.comment(`shutdown figures: requests=${outcomes.length} ok=${outcomes.filter((o) => o === 200).length} 503=${outcomes.filter((o) => o === 503).length} readiness-false=${notReadyAfter}ms exit=${exitAfter}ms`)
})
