// `doctor` as a process: join links issued by the service, checked against a Jitsi .env.
import { SignJWT } from 'jose'
import t, { type Test } from 'tap'
import { JITSI_SECRET, NOW_S, build, iso, secret, signedPost, visitBody } from '../helper.js'
import { JITSI_KID, jitsiRsa, rs256Env } from '../fixtures/jitsi-rs256.js'
import { cli, inProcess, tmp } from './fixtures/cli.js'

const JITSI_ENV = [
  'ENABLE_AUTH=1', 'AUTH_TYPE=jwt', 'JWT_APP_ID=openemr_telehealth', `JWT_APP_SECRET=${JITSI_SECRET}`,
  'JWT_ENABLE_DOMAIN_VERIFICATION=1', 'XMPP_MUC_MODULES=token_affiliation,token_lobby_bypass',
  'JICOFO_ENABLE_AUTH=0', 'ENABLE_AUTO_OWNER=0'
].join('\n')
const AT = ['--now', iso(NOW_S), '--at', iso(NOW_S + 3600)]

async function issued (t: Test, env: Record<string, string> = {}) {
  const { app } = await build(t, { env })
  const res = await signedPost(app, '/v1/visits', visitBody())
  t.equal(res.statusCode, 200, 'visit issued')
  return res.json().participants as Array<{ token: string, joinUrl: string }>
}

t.test('a join link we issued passes against the Jitsi .env; exit 0', async (t) => {
  const [provider, patient] = await issued(t)
  const envFile = tmp(t).file('jitsi.env', JITSI_ENV)
  const run = await cli(['doctor', provider?.joinUrl as string, '--jitsi-env', envFile, ...AT])
  t.equal(run.code, 0, run.stdout + run.stderr)
  t.match(run.stdout, /^PASS {2}url\.token/mu)
  t.match(run.stdout, /^PASS {2}signature\s+verified with JWT_APP_SECRET from the Jitsi environment/mu)
  t.match(run.stdout, /^WARN {2}time\.now\s+not valid yet/mu, 'a later visit: only a warning when --at is given')
  t.match(run.stdout, /^OK: 0 fail, 1 warn, \d+ pass$/mu)
  t.notOk(run.stdout.includes(provider?.token as string))

  const json = await cli(['doctor', '-', '--json', '--jitsi-env', envFile, ...AT], { stdin: `${patient?.token}\n` })
  t.equal(json.code, 0, json.stdout)
  const report = JSON.parse(json.stdout)
  t.match(report, { ok: true, summary: { fail: 0 } })
  t.match(report.checks.find((c: { id: string }) => c.id === 'claims.sub'), { verdict: 'warn', message: /give the join URL/u })
})

t.test('a failing rule: exit 1 and a FAIL line that says why', async (t) => {
  const [provider] = await issued(t)
  const keyFile = tmp(t).file('wrong.secret', `${secret()}\n`)
  const run = await cli(['doctor', provider?.joinUrl as string, '--secret-file', keyFile, '--now', iso(NOW_S)])
  t.equal(run.code, 1)
  t.match(run.stdout, /^FAIL {2}signature\s+does not verify with the --secret-file/mu)
  t.match(run.stdout, /^FAIL {2}time\.now\s+not valid yet/mu)
  t.match(run.stdout, /^WARN {2}jitsi\.config/mu)
  t.match(run.stdout, /^NOT OK: 2 fail/mu)
})

t.test('RS256 deployments: --public-key verifies, JWT_SIGN_TYPE decides the alg', async (t) => {
  const [provider] = await issued(t, rs256Env(t))
  const files = tmp(t)
  const pub = files.file('jitsi.pub.pem', jitsiRsa.publicKey.export({ type: 'spki', format: 'pem' }) as string)
  const env = files.file('jitsi.env', 'ENABLE_AUTH=1\nAUTH_TYPE=jwt\nJWT_APP_ID=openemr_telehealth\nJWT_SIGN_TYPE=RS256\n')
  const run = await inProcess(['doctor', provider?.joinUrl as string, '--public-key', pub, '--jitsi-env', env, ...AT])
  t.equal(run.code, 0, run.stdout)
  t.match(run.stdout, /PASS {2}header\.alg\s+alg RS256 matches JWT_SIGN_TYPE/u)
  t.match(run.stdout, /PASS {2}signature\s+verified with the --public-key/u)
  const hs = files.file('hs.env', 'ENABLE_AUTH=1\nAUTH_TYPE=jwt\nJWT_APP_ID=openemr_telehealth\n')
  const mismatch = await inProcess(['doctor', provider?.token as string, '--jitsi-env', hs, ...AT])
  t.equal(mismatch.code, 1)
  t.match(mismatch.stdout, /FAIL {2}header\.alg\s+alg is "RS256" but Prosody accepts exactly one algorithm: JWT_SIGN_TYPE=HS256/u)
  t.equal(JITSI_KID, 'jitsi/k1')
})

t.test('the seed script\'s token (string moderator, no typ check issue) is explained', async (t) => {
  // what generate_jwt_token() in the OpenEMR scripts produced: moderator as a string, no features
  const legacy = await new SignJWT({ iss: 'openemr', aud: 'openemr_telehealth', sub: 'meet.jitsi', room: 'appointment-123', exp: NOW_S + 3600, context: { user: { name: 'John Doe', moderator: 'false' } } })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(JITSI_SECRET))
  const env = tmp(t).file('jitsi.env', 'ENABLE_AUTH=1\nAUTH_TYPE=jwt\nJWT_APP_ID=openemr_telehealth\nJWT_ACCEPTED_ISSUERS=openemr\nJWT_ACCEPTED_AUDIENCES=openemr_telehealth\n')
  const run = await inProcess(['doctor', `https://telehealth.example.org/appointment-123?jwt=${legacy}`, '--jitsi-env', env, '--secret', JITSI_SECRET, '--now', iso(NOW_S)])
  t.equal(run.code, 1)
  t.match(run.stdout, /FAIL {2}user\.moderator\s+context\.user\.moderator is "false"/u)
  t.match(run.stdout, /WARN {2}jitsi\.everyone-moderator\s+JICOFO_ENABLE_AUTH/u)
  t.match(run.stdout, /WARN {2}context\.features/u)
  t.match(run.stdout, /PASS {2}claims\.iss/u)
})

t.test('usage errors exit 2', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /give a token or a join URL/u],
    [['a.b.c', '--secret', 'x', '--public-key', 'y'], /at most one of/u],
    [['a.b.c', '--at', 'tomorrow'], /--at must be an RFC 3339 date-time/u],
    [['a.b.c', '--jitsi-env', '/nonexistent.env'], /cannot read --jitsi-env/u],
    [['a.b.c', '--secret-file', '/nonexistent'], /cannot read --secret-file/u],
    [['a.b.c', '--public-key', '/nonexistent'], /cannot read --public-key/u],
    [['a.b.c', 'd.e.f'], /unexpected argument/u]
  ]
  for (const [args, message] of cases) {
    const run = await inProcess(['doctor', ...args])
    t.equal(run.code, 2, args.join(' '))
    t.match(run.stderr, message)
  }
  const notPem = tmp(t).file('x.pem', 'not a key')
  t.match(await inProcess(['doctor', 'a.b.c', '--public-key', notPem]), { code: 2, stderr: /not a PEM public key/u })
})
