// The Python client against the live service: python3 runs clients/python/examples/jts.py.
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { hasCommand, liveServer, liveVisit, runDriver, verifyVisit, writeJson, type Live, type Run } from './fixtures/live.js'

const DRIVER = fileURLToPath(new URL('../../clients/python/examples/jts.py', import.meta.url))
const CLIENT_DIR = fileURLToPath(new URL('../../clients/python/', import.meta.url))

const python = async (live: Live, env: Record<string, string>, args: string[]): Promise<Run> =>
  await runDriver('python3', [DRIVER, ...args], { JTS_URL: live.url, ...env })

if (!hasCommand('python3')) {
  t.skip('python3 is not installed (apt-get install -y python3); the Python client test needs it', () => {})
} else {
  const crypto = hasCommand('python3', ['-c', 'import cryptography'])

  t.test('HS256 with the standard library: creates a visit whose tokens Jitsi accepts', async (t) => {
    const live = await liveServer(t)
    const body = writeJson(live.dir, 'visit.json', liveVisit())
    const run = await python(live, { JTS_CLIENT: 'openemr-main', JTS_KEY_FILE: live.keys.hs, JTS_KID: 'k1' }, ['visit', body, 'pc_aid-7'])
    t.equal(run.code, 0, run.stderr + run.stdout)
    await verifyVisit(t, JSON.parse(run.stdout))
  })

  t.test('RS256 and ES256 keys (through the cryptography package)', { skip: crypto ? false : 'python3 cannot import cryptography (apt-get install python3-cryptography)' }, async (t) => {
    const live = await liveServer(t)
    for (const [kid, key] of [['r1', live.keys.rsa], ['e1', live.keys.ec]] as const) {
      const body = writeJson(live.dir, `visit-${kid}.json`, liveVisit(`pc_eid-${kid}`))
      const run = await python(live, { JTS_CLIENT: 'ehr-rsa', JTS_KEY_FILE: key, JTS_KID: kid }, ['visit', body])
      t.equal(run.code, 0, `${kid}: ${run.stderr}${run.stdout}`)
      await verifyVisit(t, JSON.parse(run.stdout))
    }
  })

  t.test('without cryptography an RS256 key raises a clear error', async (t) => {
    const live = await liveServer(t)
    const script = [
      'import sys',
      "sys.modules['cryptography'] = None",
      `sys.path.insert(0, ${JSON.stringify(CLIENT_DIR)})`,
      'from jitsi_token_client import JitsiTokenClient',
      `JitsiTokenClient('http://127.0.0.1:9', 'ehr-rsa', open(${JSON.stringify(live.keys.rsa)}).read())`
    ].join('\n')
    const run = await runDriver('python3', ['-c', script], {})
    t.not(run.code, 0)
    t.match(run.stderr, /RS256\/ES256 need the 'cryptography' package/u)
  })

  t.test('keys that cannot work are refused before any request', async (t) => {
    const tryKey = async (args: string) => await runDriver('python3', ['-c', `import sys\nsys.path.insert(0, ${JSON.stringify(CLIENT_DIR)})\nfrom jitsi_token_client import JitsiTokenClient\ntry:\n  JitsiTokenClient(${args})\n  print('accepted')\nexcept ValueError as e:\n  print(e)`], {})
    t.equal((await tryKey("'http://127.0.0.1:9', 'c', 'short\\n'")).stdout.trim(), 'an HS256 secret must be at least 32 bytes')
    t.equal((await tryKey("'http://127.0.0.1:9', 'c', 'k' * 40, 'RS256'")).stdout.trim(), 'key does not fit alg RS256: a secret signs HS256')
  })

  t.test('createToken: one participant', async (t) => {
    const live = await liveServer(t)
    const body = writeJson(live.dir, 'token.json', { appointmentId: 'pc_eid-4711', tenant: 'clinic-a', participant: { role: 'patient', id: 'pc_pid-42', displayName: 'José Núñez' } })
    const run = await python(live, { JTS_CLIENT: 'openemr-main', JTS_KEY_FILE: live.keys.hs, JTS_KID: 'k1' }, ['token', body])
    t.equal(run.code, 0, run.stderr + run.stdout)
    t.match(JSON.parse(run.stdout), { role: 'patient', moderator: false, tenant: 'clinic-a', room: /^[a-z2-7]{26}$/u, displayName: 'José Núñez' })
  })

  t.test('a wrong secret: 401 and the problem code invalid_token surface in the exception', async (t) => {
    const live = await liveServer(t)
    const body = writeJson(live.dir, 'visit.json', liveVisit())
    const run = await python(live, { JTS_CLIENT: 'openemr-main', JTS_KEY_FILE: live.keys.wrong, JTS_KID: 'k1' }, ['visit', body])
    t.equal(run.code, 3)
    t.match(JSON.parse(run.stdout), { error: { code: 'invalid_token', status: 401 } })
  })

  t.test('the doctor through the client: a checklist, never the token', async (t) => {
    const live = await liveServer(t)
    const visit = writeJson(live.dir, 'visit.json', liveVisit())
    const issued = JSON.parse((await python(live, { JTS_CLIENT: 'openemr-main', JTS_KEY_FILE: live.keys.hs, JTS_KID: 'k1' }, ['visit', visit])).stdout)
    const provider = issued.participants[0]
    const req = writeJson(live.dir, 'inspect.json', { joinUrl: provider.joinUrl })
    const run = await python(live, { JTS_CLIENT: 'openemr-main', JTS_KEY_FILE: live.keys.hs, JTS_KID: 'k1' }, ['inspect', req])
    t.equal(run.code, 0, run.stderr + run.stdout)
    t.match(JSON.parse(run.stdout), { ok: true, checks: [{ id: 'url.token', verdict: 'pass' }] })
    t.notOk(run.stdout.includes(provider.token))
  })

  t.test('no server: network_error with status 0', async (t) => {
    const live = await liveServer(t)
    const body = writeJson(live.dir, 'visit.json', liveVisit())
    const run = await python({ ...live, url: 'http://127.0.0.1:9' }, { JTS_CLIENT: 'openemr-main', JTS_KEY_FILE: live.keys.hs }, ['visit', body])
    t.equal(run.code, 3)
    t.match(JSON.parse(run.stdout), { error: { code: 'network_error', status: 0 } })
  })
}
