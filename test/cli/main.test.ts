// The CLI entry: help, unknown commands, per-command --help, and errors that are not usage errors.
import t from 'tap'
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
