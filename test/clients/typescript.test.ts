// The TypeScript client (jitsi-token-service/client) against the live service.
import { execFile } from 'node:child_process'
import { createPrivateKey, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import t from 'tap'
import { JitsiTokenError, createAssertionSigner, createJitsiTokenClient, type JitsiTokenClientOptions } from '../../src/client/index.js'
import { EMR_SECRET, ec, ed, rsa, secret } from '../helper.js'
import { liveServer, liveVisit, verifyVisit } from './fixtures/live.js'

async function rejection (p: Promise<unknown>): Promise<JitsiTokenError> {
  try {
    await p
  } catch (err) {
    if (err instanceof JitsiTokenError) return err
    throw err
  }
  throw new Error('expected a JitsiTokenError')
}

t.test('HS256: creates a visit whose tokens Jitsi accepts; the actor becomes sub', async (t) => {
  const live = await liveServer(t)
  const seen: string[] = []
  const client = createJitsiTokenClient({
    baseUrl: `${live.url}/`,
    clientId: 'openemr-main',
    key: EMR_SECRET,
    kid: 'k1',
    fetch: async (request) => {
      seen.push(request.headers.get('authorization') as string)
      return await fetch(request)
    }
  })
  await verifyVisit(t, await client.createVisit(liveVisit(), { actor: 'pc_aid-7' }))
  const assertion = seen[0]?.replace('Bearer ', '') as string
  t.match(decodeProtectedHeader(assertion), { alg: 'HS256', typ: 'emr-request+jwt', kid: 'k1' })
  t.match(decodeJwt(assertion), { iss: 'openemr-main', sub: 'pc_aid-7', aud: 'jitsi-token-service', htm: 'POST', htu: '/v1/visits' })
})

t.test('RS256, ES256 (PEM or KeyObject) and EdDSA keys', async (t) => {
  const live = await liveServer(t)
  const cases: Array<[string, JitsiTokenClientOptions['key'], string | undefined]> = [
    ['ehr-rsa', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'r1'],
    ['ehr-rsa', createPrivateKey(readFileSync(live.keys.ec, 'utf8')), 'e1'],
    ['ehr-ed', ed.privateKey, undefined]
  ]
  for (const [clientId, key, kid] of cases) {
    const client = createJitsiTokenClient({ baseUrl: live.url, clientId, key, kid })
    const tenant = clientId === 'ehr-ed' ? undefined : 'clinic-a'
    const answer = await client.createVisit({ ...liveVisit(`pc_eid-${kid ?? 'ed'}`), tenant })
    if (tenant !== undefined) await verifyVisit(t, answer)
    else t.equal(answer.participants.length, 2, 'tenant-less visit for a client without tenants')
  }
  t.equal(ec.privateKey.asymmetricKeyType, 'ec')
})

t.test('createToken and inspectToken', async (t) => {
  const live = await liveServer(t)
  const client = createJitsiTokenClient({ baseUrl: live.url, clientId: 'openemr-main', key: EMR_SECRET, kid: 'k1' })
  const token = await client.createToken({ appointmentId: 'pc_eid-4711', tenant: 'clinic-a', participant: { role: 'patient', id: 'pc_pid-42', displayName: 'José Núñez' } })
  t.match(token, { role: 'patient', moderator: false, tenant: 'clinic-a' })
  const report = await client.inspectToken({ joinUrl: token.joinUrl })
  t.equal(report.ok, true)
  t.match(report.checks.find((c) => c.id === 'signature'), { verdict: 'pass' })
  t.notOk(JSON.stringify(report).includes(token.token))
})

t.test('a wrong secret: JitsiTokenError with invalid_token and 401', async (t) => {
  const live = await liveServer(t)
  const client = createJitsiTokenClient({ baseUrl: live.url, clientId: 'openemr-main', key: secret(), kid: 'k1' })
  const err = await rejection(client.createVisit(liveVisit()))
  t.equal(err.code, 'invalid_token')
  t.equal(err.status, 401)
  t.match(err.requestId, /^[0-9a-f-]{36}$/u)
})

t.test('a refused request keeps its problem (code, errors)', async (t) => {
  const live = await liveServer(t)
  const client = createJitsiTokenClient({ baseUrl: live.url, clientId: 'openemr-main', key: EMR_SECRET })
  const err = await rejection(client.createVisit({ ...liveVisit(), durationMinutes: 30, end: '2030-01-01T00:00:00Z' }))
  t.equal(err.code, 'invalid_request')
  t.equal(err.status, 400)
  t.ok(err.problem?.errors?.length)
})

t.test('no server: network_error with status 0; no problem body: http_<status>', async (t) => {
  const down = createJitsiTokenClient({ baseUrl: 'http://127.0.0.1:9', clientId: 'openemr-main', key: EMR_SECRET })
  t.match(await rejection(down.createVisit(liveVisit())), { code: 'network_error', status: 0 })
  const proxy = createJitsiTokenClient({ baseUrl: 'http://127.0.0.1:9', clientId: 'openemr-main', key: EMR_SECRET, fetch: async () => new Response('<html>bad gateway</html>', { status: 502 }) })
  t.match(await rejection(proxy.createVisit(liveVisit())), { code: 'http_502', status: 502 })
})

t.test('the signer refuses keys that do not fit, odd lifetimes and queries', async (t) => {
  t.throws(() => createAssertionSigner({ clientId: 'c', key: EMR_SECRET, alg: 'RS256' }), /does not fit alg RS256/u)
  t.throws(() => createAssertionSigner({ clientId: 'c', key: rsa.publicKey }), /unsupported key/u)
  t.throws(() => createAssertionSigner({ clientId: 'c', key: generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey }), /unsupported key/u)
  t.throws(() => createAssertionSigner({ clientId: 'c', key: EMR_SECRET, ttlSeconds: 301 }), /ttlSeconds/u)
  const sign = createAssertionSigner({ clientId: 'c', key: EMR_SECRET })
  await t.rejects(sign({ method: 'POST', path: '/v1/visits?x=1', body: '', actor: 'a' }), /query/u)
  const jws = await sign({ method: 'post', path: '/v1/visits', body: '{}', actor: 'a', nowS: 1_800_000_000 })
  t.match(decodeJwt(jws), { htm: 'POST', iat: 1_800_000_000, exp: 1_800_000_060, body_sha256: 'RBNvo1WzZ4oRRq0W9-hknpT7T8If536DEMBg9hyq_4o', jti: /^[A-Za-z0-9_-]{32}$/u })
})

t.test('src/client/api.d.ts is what `npm run client:types` makes of the committed openapi.yaml', async (t) => {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const dir = mkdtempSync(join(tmpdir(), 'jts-types-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'api.d.ts')
  await promisify(execFile)(process.execPath, [join(root, 'node_modules/openapi-typescript/bin/cli.js'), join(root, 'openapi.yaml'), '-o', out], { cwd: root })
  t.equal(readFileSync(join(root, 'src/client/api.d.ts'), 'utf8'), readFileSync(out, 'utf8'), 'run `npm run client:types` and commit src/client/api.d.ts')
})
