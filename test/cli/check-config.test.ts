// `check-config` as a process: the server's own parseConfig, the same message on failure,
// never a secret value in the output.
import t, { type Test } from 'tap'
import { ConfigError, parseConfig } from '../../src/config.js'
import { EMR_SECRET, JITSI_SECRET, ROOM_SECRET, testEnv } from '../helper.js'
import { cli, inProcess, tmp } from './fixtures/cli.js'

/** KEY='value' lines; single quotes keep the JSON of CLIENTS_JSON intact. */
const envFile = (env: NodeJS.ProcessEnv) => Object.entries(env).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n'
const noSecrets = (t: Test, text: string) => {
  for (const s of [JITSI_SECRET, ROOM_SECRET, EMR_SECRET]) t.notOk(text.includes(s), 'no secret value printed')
}

t.test('a valid --env-file: exit 0 and a summary without secrets', async (t) => {
  const file = tmp(t).file('service.env', `# service\n${envFile(testEnv())}`)
  const run = await cli(['check-config', '--env-file', file])
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /^Configuration OK\n/u)
  t.match(run.stdout, /JITSI_BASE_URL\s+https:\/\/meet\.example\.org/u)
  t.match(run.stdout, /iss=openemr_telehealth aud=jitsi sub=meet\.jitsi/u)
  t.match(run.stdout, /openemr-main \(k1:HS256\)/u)
  noSecrets(t, run.stdout + run.stderr)
})

t.test('the process environment when no --env-file is given', async (t) => {
  const run = await cli(['check-config'], { env: testEnv({ TOKEN_IN_URL: 'fragment', JWT_SUBJECT: 'meet.example.org' }) })
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /TOKEN_IN_URL\s+fragment/u)
  t.match(run.stdout, /sub=meet\.example\.org/u)
})

t.test('an invalid configuration: exit 1 with the exact message the server prints', async (t) => {
  const env = testEnv({ JITSI_BASE_URL: 'http://meet.example.org', JWT_APP_SECRET: 'changeme-changeme-changeme-changeme', PORT: 'eighty' })
  let expected = ''
  try {
    parseConfig(env)
  } catch (err) {
    expected = (err as ConfigError).message
  }
  t.match(expected, /JITSI_BASE_URL/u)
  const run = await cli(['check-config'], { env })
  t.equal(run.code, 1)
  t.equal(run.stderr.trim(), expected.trim())
  t.match(run.stderr, /JWT_APP_SECRET is a placeholder value/u)
  t.match(run.stderr, /PORT/u)
  t.equal(run.stdout, '')
  t.notOk(run.stderr.includes('changeme-changeme'), 'never the value')
  noSecrets(t, run.stderr)
})

t.test('an empty environment names every required variable', async (t) => {
  const run = await inProcess(['check-config'], { env: {} })
  t.equal(run.code, 1)
  for (const name of ['JITSI_BASE_URL', 'JWT_APP_ID', 'JWT_APP_SECRET', 'ROOM_NAME_SECRET', 'CLIENTS_FILE or CLIENTS_JSON']) t.match(run.stderr, name)
})

t.test('usage errors exit 2', async (t) => {
  t.equal((await inProcess(['check-config', '--env-file', '/nonexistent/x.env'])).code, 2)
  t.equal((await inProcess(['check-config', 'extra'])).code, 2)
})
