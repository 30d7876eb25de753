// `sign-request` as a process: the assertion and the printed curl command work against the
// live service, byte for byte (--data-binary keeps the newline and UTF-8 that -d would alter).
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import t from 'tap'
import { hasCommand, liveServer, liveVisit, writeJson } from '../clients/fixtures/live.js'
import { cli, inProcess, tmp } from './fixtures/cli.js'

const sh = promisify(execFile)

t.test('the printed curl command creates a visit', { skip: hasCommand('curl') ? false : 'curl is not installed' }, async (t) => {
  const live = await liveServer(t)
  // pretty-printed with a trailing newline and non-ASCII: every byte counts for body_sha256
  const body = writeJson(live.dir, 'visit.json', liveVisit())
  const run = await cli(['sign-request', '--client', 'openemr-main', '--key', live.keys.hs, '--kid', 'k1', '--sub', 'pc_aid-7', '--path', '/v1/visits', '--body', body, '--url', live.url])
  t.equal(run.code, 0, run.stderr)
  const [assertion, curl] = run.stdout.trim().split('\n') as [string, string]
  t.match(decodeProtectedHeader(assertion), { alg: 'HS256', typ: 'emr-request+jwt', kid: 'k1' })
  t.match(decodeJwt(assertion), { iss: 'openemr-main', sub: 'pc_aid-7', htm: 'POST', htu: '/v1/visits' })
  t.match(curl, /^curl -sS -X POST '.+\/v1\/visits' .*--data-binary @'.+visit\.json'$/u)
  t.match(run.stderr, /single use/u)
  const { stdout } = await sh('sh', ['-c', curl])
  t.match(JSON.parse(stdout), { tenant: 'clinic-a', participants: [{ role: 'provider' }, { role: 'patient', displayName: 'José Núñez' }] })
  const replay = await sh('sh', ['-c', curl])
  t.match(JSON.parse(replay.stdout), { code: 'invalid_token' }, 'the same assertion twice is refused')
})

t.test('a PEM key picks its algorithm; the assertion authenticates a fetch of the same bytes', async (t) => {
  const live = await liveServer(t)
  const visit = `${JSON.stringify(liveVisit('pc_eid-ec'), null, 2)}\n`
  const body = join(live.dir, 'visit-pretty.json')
  writeFileSync(body, visit)
  const run = await cli(['sign-request', '--client', 'ehr-rsa', '--key', live.keys.ec, '--kid', 'e1', '--path', '/v1/visits', '--body', body, '--url', live.url])
  t.equal(run.code, 0, run.stderr)
  const assertion = run.stdout.split('\n')[0] as string
  t.equal(decodeProtectedHeader(assertion).alg, 'ES256')
  const res = await fetch(`${live.url}/v1/visits`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${assertion}` }, body: visit })
  t.equal(res.status, 200)
})

t.test('usage errors exit 2 and name the problem', async (t) => {
  const key = tmp(t).file('k.secret', 'a-secret-that-is-long-enough-for-hs256-0123456789')
  const cases: Array<[string[], RegExp]> = [
    [['--key', '/dev/null', '--path', '/v1/visits'], /--client is required/u],
    [['--client', 'c', '--key', '/nonexistent', '--path', '/v1/visits'], /cannot read --key/u],
    [['--client', 'c', '--key', key, '--path', '/v1/visits?x=1'], /without query/u],
    [['--client', 'c', '--key', key, '--path', '/v1/visits', '--alg', 'HS512'], /--alg must be one of/u],
    [['--client', 'c', '--key', key, '--path', '/v1/visits', '--body', '/nonexistent'], /cannot read --body/u],
    [['--client', 'c', '--key', key, '--path', '/v1/visits', '--ttl', '900'], /ttlSeconds must be 1-300/u]
  ]
  for (const [args, message] of cases) {
    const run = await inProcess(['sign-request', ...args])
    t.equal(run.code, 2, args.join(' '))
    t.match(run.stderr, message)
  }
})
