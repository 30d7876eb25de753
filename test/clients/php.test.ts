// The PHP client against the live service: php CLI runs clients/php/examples/jts.php.
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { hasCommand, liveServer, liveVisit, runDriver, verifyVisit, writeJson, type Live, type Run } from './fixtures/live.js'

const DRIVER = fileURLToPath(new URL('../../clients/php/examples/jts.php', import.meta.url))

const php = async (live: Live, env: Record<string, string>, args: string[]): Promise<Run> =>
  await runDriver('php', [DRIVER, ...args], { JTS_URL: live.url, ...env })

if (!hasCommand('php')) {
  t.skip('php is not installed (apt-get install -y php-cli); the PHP client test needs it', () => {})
} else {
  const curl = hasCommand('php', ['-r', 'exit(function_exists("curl_init") ? 0 : 1);'])
  const transports = curl ? ['stream', 'curl'] : ['stream']

  for (const transport of transports) {
    t.test(`HS256 (${transport}): creates a visit whose tokens Jitsi accepts`, async (t) => {
      const live = await liveServer(t)
      const body = writeJson(live.dir, 'visit.json', liveVisit())
      const run = await php(live, { JTS_CLIENT: 'openemr-main', JTS_KEY_FILE: live.keys.hs, JTS_KID: 'k1', JTS_TRANSPORT: transport }, ['visit', body, 'pc_aid-7'])
      t.equal(run.code, 0, run.stderr + run.stdout)
      await verifyVisit(t, JSON.parse(run.stdout))
    })
  }

  t.test('RS256 and ES256 keys (ES256 needs the DER signature turned into R||S)', async (t) => {
    const live = await liveServer(t)
    for (const [kid, key] of [['r1', live.keys.rsa], ['e1', live.keys.ec]] as const) {
      const body = writeJson(live.dir, `visit-${kid}.json`, liveVisit(`pc_eid-${kid}`))
      const run = await php(live, { JTS_CLIENT: 'ehr-rsa', JTS_KEY_FILE: key, JTS_KID: kid }, ['visit', body])
      t.equal(run.code, 0, `${kid}: ${run.stderr}${run.stdout}`)
      await verifyVisit(t, JSON.parse(run.stdout))
    }
  })

  t.test('createToken: one participant', async (t) => {
    const live = await liveServer(t)
    const body = writeJson(live.dir, 'token.json', { appointmentId: 'pc_eid-4711', tenant: 'clinic-a', participant: { role: 'patient', id: 'pc_pid-42', displayName: 'José Núñez' } })
    const run = await php(live, { JTS_CLIENT: 'openemr-main', JTS_KEY_FILE: live.keys.hs, JTS_KID: 'k1' }, ['token', body])
    t.equal(run.code, 0, run.stderr + run.stdout)
    const answer = JSON.parse(run.stdout)
    t.match(answer, { role: 'patient', moderator: false, tenant: 'clinic-a', room: /^[a-z2-7]{26}$/u })
  })

  t.test('a wrong secret: 401 and the problem code invalid_token surface in the exception', async (t) => {
    const live = await liveServer(t)
    const body = writeJson(live.dir, 'visit.json', liveVisit())
    const run = await php(live, { JTS_CLIENT: 'openemr-main', JTS_KEY_FILE: live.keys.wrong, JTS_KID: 'k1' }, ['visit', body])
    t.equal(run.code, 3)
    t.match(JSON.parse(run.stdout), { error: { code: 'invalid_token', status: 401 } })
  })

  t.test('a validation error surfaces its code too', async (t) => {
    const live = await liveServer(t)
    const body = writeJson(live.dir, 'visit.json', { ...liveVisit(), tenant: 'clinic-z' })
    const run = await php(live, { JTS_CLIENT: 'openemr-main', JTS_KEY_FILE: live.keys.hs, JTS_KID: 'k1' }, ['visit', body])
    t.equal(run.code, 3)
    t.match(JSON.parse(run.stdout), { error: { code: 'forbidden', status: 403 } })
  })

  t.test('keys that cannot work are refused before any request', async (t) => {
    const client = fileURLToPath(new URL('../../clients/php/JitsiTokenClient.php', import.meta.url))
    const tryKey = async (args: string) => await runDriver('php', ['-r', `require ${JSON.stringify(client)}; try { new JitsiTokenClient(${args}); echo "accepted"; } catch (InvalidArgumentException $e) { echo $e->getMessage(); }`], {})
    t.equal((await tryKey('"http://127.0.0.1:9", "c", "short"')).stdout, 'an HS256 secret must be at least 32 bytes')
    t.equal((await tryKey('"http://127.0.0.1:9", "c", str_repeat("k", 40), "RS256"')).stdout, 'key does not fit alg RS256')
    t.equal((await tryKey('"http://127.0.0.1:9", "c", str_repeat("k", 40), "HS512"')).stdout, 'unsupported alg HS512')
  })

  t.test('no server: network_error with status 0', async (t) => {
    const live = await liveServer(t)
    const body = writeJson(live.dir, 'visit.json', liveVisit())
    const run = await php({ ...live, url: 'http://127.0.0.1:9' }, { JTS_CLIENT: 'openemr-main', JTS_KEY_FILE: live.keys.hs }, ['visit', body])
    t.equal(run.code, 3)
    t.match(JSON.parse(run.stdout), { error: { code: 'network_error', status: 0 } })
  })
}
