// The CLI entry: help, unknown commands, per-command --help, and errors that are not usage errors.
import { decodeJwt } from 'jose'
import t from 'tap'
import { testEnv } from '../helper.js'
import { cli, inProcess, tmp } from './fixtures/cli.js'

t.test('no command prints the usage and exits 2; --help exits 0', async (t) => {
  const none = await cli([])
  t.equal(none.code, 2)
  t.match(none.stdout, /usage: jitsi-token-service <command>/u)
  for (const name of ['keygen', 'sign-request', 'check-config', 'doctor']) t.match(none.stdout, name)
  t.equal((await inProcess(['--help'])).code, 0)
})

t.test('unknown command exits 2 on stderr', async (t) => {
  const run = await inProcess(['mint'])
  t.equal(run.code, 2)
  t.match(run.stderr, /unknown command "mint"/u)
})

t.test('every command has --help', async (t) => {
  for (const name of ['keygen', 'sign-request', 'check-config', 'doctor']) {
    const run = await inProcess([name, '--help'])
    t.equal(run.code, 0)
    t.match(run.stdout, `usage: jitsi-token-service ${name}`)
  }
})

t.test('a key the service would refuse is a usage error, exit 2', async (t) => {
  const run = await inProcess(['sign-request', '--client', 'c', '--key', '/dev/null', '--path', '/v1/visits'])
  t.equal(run.code, 2)
  t.match(run.stderr, /at least 32 bytes/u)
})

t.test('an unexpected failure is exit 1 without the usage', async (t) => {
  // --out below a regular file: mkdir fails with ENOTDIR, which is no usage mistake
  const file = tmp(t).file('not-a-dir', '')
  const run = await inProcess(['keygen', '--alg', 'ES256', '--out', `${file}/keys`])
  t.equal(run.code, 1)
  t.match(run.stderr, /^keygen: ENOTDIR/u)
  t.notMatch(run.stderr, /usage:/u)
})

t.test('success paths in-process too (the spawned runs above are not in the coverage report)', async (t) => {
  const files = tmp(t)
  const hs = await inProcess(['keygen'])
  t.match(hs, { code: 0, stdout: /^[A-Za-z0-9_-]{64}\n$/u })
  const es = await inProcess(['keygen', '--alg', 'ES256', '--out', files.dir, '--kid', 'e1'])
  t.match(JSON.parse(es.stdout), { kid: 'e1', alg: 'ES256' })
  t.match(JSON.parse((await inProcess(['keygen', '--out', files.dir])).stdout), { kid: 'emr-hs256', alg: 'HS256' })

  const body = files.file('visit.json', '{"appointmentId":"a"}\n')
  const signed = await inProcess(['sign-request', '--client', 'ehr-rsa', '--key', `${files.dir}/e1.key.pem`, '--kid', 'e1', '--path', '/v1/tokens', '--body', body], { now: 1_800_000_000 })
  t.equal(signed.code, 0, signed.stderr)
  const [assertion, curl] = signed.stdout.trim().split('\n') as [string, string]
  t.match(decodeJwt(assertion), { iss: 'ehr-rsa', sub: 'ops-cli', htu: '/v1/tokens', iat: 1_800_000_000, exp: 1_800_000_060 })
  t.match(curl, /^curl -sS -X POST 'http:\/\/localhost:3000\/v1\/tokens' /u)
  const noBody = await inProcess(['sign-request', '--client', 'c', '--key', `${files.dir}/emr-hs256.secret`, '--path', '/v1/visits', '--method', 'get', '--url', "http://h/it's/"])
  t.match(noBody.stdout, /-X GET 'http:\/\/h\/it'\\''s\/v1\/visits'/u, 'quotes survive the shell')
  t.notMatch(noBody.stdout, /--data-binary/u)

  const ok = await inProcess(['check-config'], { env: testEnv({ REDIS_URL: 'redis://127.0.0.1:6379', JWT_SIGN_TYPE: undefined }) })
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /replay store\s+redis/u)
  const envFile = files.file('svc.env', Object.entries(testEnv()).map(([k, v]) => `${k}='${v}'`).join('\n'))
  t.equal((await inProcess(['check-config', '--env-file', envFile])).code, 0)
})
