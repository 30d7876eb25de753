// Probes: liveness never depends on anything; readiness names what fails.
import t from 'tap'
import { MemoryReplayStore } from '../../src/auth/replay-store.js'
import { build } from '../helper.js'

t.test('/healthz is 200 {status: ok}', async (t) => {
  const { app } = await build(t)
  const res = await app.inject('/healthz')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('/readyz is 200 with every check ok', async (t) => {
  const { app } = await build(t)
  const res = await app.inject('/readyz')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ready', checks: { config: 'ok', signing_key: 'ok', replay_store: 'ok', draining: 'ok' } })
})

t.test('/readyz is 503 problem+json naming the failing checks; /healthz stays 200', async (t) => {
  class BrokenStore extends MemoryReplayStore {
    override async ping () { throw new Error('down') }
  }
  const { app } = await build(t, { build: { replayStore: new BrokenStore() } })
  app.readiness.startDraining()
  const res = await app.inject('/readyz')
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '1')
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.match(res.json(), { code: 'unavailable', status: 503, failing: ['replay_store', 'draining'], detail: 'not ready: replay_store, draining' })
  t.equal((await app.inject('/healthz')).statusCode, 200)
})

t.test('a replay store that hangs fails readiness within the check timeout', async (t) => {
  class HangingStore extends MemoryReplayStore {
    override async ping () { await new Promise(() => {}) }
  }
  const { app } = await build(t, { build: { replayStore: new HangingStore() } })
  const started = Date.now()
  const res = await app.inject('/readyz')
  t.equal(res.statusCode, 503)
  t.ok(Date.now() - started < 900, 'answered within the 500 ms check timeout')
})
