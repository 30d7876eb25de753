// `keygen` as a process: HS256 secrets and RS256/ES256 key pairs the service accepts.
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import t from 'tap'
import { loadClients } from '../../src/config/clients.js'
import { secretProblem } from '../../src/config/secrets.js'
import { cli, inProcess, tmp } from './fixtures/cli.js'

t.test('HS256: one base64url secret of 48 random bytes on stdout', async (t) => {
  const a = await cli(['keygen'])
  const b = await cli(['keygen'])
  t.equal(a.code, 0, a.stderr)
  const secret = a.stdout.trim()
  t.match(secret, /^[A-Za-z0-9_-]{64}$/u)
  t.equal(Buffer.from(secret, 'base64url').length, 48)
  t.equal(secretProblem(secret), undefined, 'the service accepts it')
  t.not(secret, b.stdout.trim(), 'random each time')
})

t.test('HS256 --out writes a 0600 secret file and prints its registry entry', async (t) => {
  const { dir } = tmp(t)
  const run = await cli(['keygen', '--out', dir, '--kid', 'k7', '--bytes', '32'])
  t.equal(run.code, 0, run.stderr)
  const entry = JSON.parse(run.stdout)
  t.match(entry, { kid: 'k7', alg: 'HS256', secretFile: `${dir}/k7.secret` })
  t.equal(statSync(entry.secretFile).mode & 0o777, 0o600)
  t.equal(loadClients(JSON.stringify([{ id: 'emr', keys: [entry] }])).byId.size, 1, 'loads as a client key')
})

for (const alg of ['RS256', 'ES256'] as const) {
  t.test(`${alg} --out writes a key pair the service registers`, async (t) => {
    const { dir } = tmp(t)
    const run = await cli(['keygen', '--alg', alg, '--out', dir, '--kid', 'e9'])
    t.equal(run.code, 0, run.stderr)
    const entry = JSON.parse(run.stdout)
    t.match(entry, { kid: 'e9', alg, publicKeyFile: `${dir}/e9.pub.pem` })
    t.equal(statSync(`${dir}/e9.key.pem`).mode & 0o777, 0o600, 'private key is 0600')
    const priv = createPrivateKey(readFileSync(`${dir}/e9.key.pem`, 'utf8'))
    t.equal(priv.asymmetricKeyType, alg === 'RS256' ? 'rsa' : 'ec')
    t.equal(createPublicKey(readFileSync(entry.publicKeyFile, 'utf8')).asymmetricKeyType, priv.asymmetricKeyType)
    t.equal(loadClients(JSON.stringify([{ id: 'emr', keys: [entry] }])).byId.get('emr')?.keys[0]?.alg, alg)
    t.match(run.stderr, /keep it in the EMR/u)

    const again = await cli(['keygen', '--alg', alg, '--out', dir, '--kid', 'e9'])
    t.equal(again.code, 2, 'never overwrites a key without --force')
    t.match(again.stderr, /exists; pass --force/u)
    t.equal((await cli(['keygen', '--alg', alg, '--out', dir, '--kid', 'e9', '--force'])).code, 0)
  })
}

t.test('usage errors exit 2', async (t) => {
  for (const args of [['--alg', 'ES384'], ['--alg', 'RS256'], ['--bytes', '16'], ['--kid', 'bad kid'], ['--nope']]) {
    const run = await inProcess(['keygen', ...args])
    t.equal(run.code, 2, args.join(' '))
    t.match(run.stderr, /usage: jitsi-token-service keygen/u)
  }
})
