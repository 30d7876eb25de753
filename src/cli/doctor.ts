// `doctor`: explains why a token or join link is (not) accepted by a given Jitsi deployment.
// The rules live in services/doctor.ts, shared with POST /v1/tokens/inspect.
import { createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readSecretFile } from '../config/secrets.js'
import { formatReport, inspectToken, type VerifyKey } from '../services/doctor.js'
import { parseEnvFile } from '../services/jitsi-env.js'
import { EXIT_FAIL, EXIT_OK, UsageError, isoSeconds, parse, type Io } from './io.js'

export const DOCTOR_USAGE = `usage: jitsi-token-service doctor <token | join URL | -> [--jitsi-env FILE]
       [--secret-file FILE | --secret S | --public-key FILE] [--at ISO] [--json]
  -                read the token or URL from stdin (keeps it out of shell history)
  --jitsi-env      docker-jitsi-meet .env (its JWT_APP_SECRET also verifies HS256 signatures)
  --at             appointment time: the token must be valid then
  --now            check as of this time instead of the clock (to reproduce a report)
  Exit 0 when no check fails, 1 otherwise.`

export async function doctor (argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    'jitsi-env': { type: 'string' },
    secret: { type: 'string' },
    'secret-file': { type: 'string' },
    'public-key': { type: 'string' },
    at: { type: 'string' },
    now: { type: 'string' },
    json: { type: 'boolean', default: false }
  }, 1)
  let subject = positionals[0]
  if (subject === undefined) throw new UsageError('give a token or a join URL (or - for stdin)')
  if (subject === '-') subject = (await io.readStdin()).trim()
  const keys = [values.secret, values['secret-file'], values['public-key']].filter((v) => v !== undefined)
  if (keys.length > 1) throw new UsageError('give at most one of --secret, --secret-file, --public-key')

  const jitsiEnv = values['jitsi-env'] !== undefined ? parseEnvFile(readOr(values['jitsi-env'], '--jitsi-env')) : undefined
  const isUrl = /^https?:\/\//iu.test(subject)
  const report = await inspectToken({
    ...(isUrl ? { joinUrl: subject } : { token: subject }),
    jitsiEnv,
    nowS: values.now !== undefined ? isoSeconds(values.now, '--now') : io.now(),
    atS: values.at !== undefined ? isoSeconds(values.at, '--at') : undefined,
    key: verifyKey(values)
  })
  io.out(values.json ? JSON.stringify(report, null, 2) : formatReport(report))
  return report.ok ? EXIT_OK : EXIT_FAIL
}

function verifyKey (v: { secret?: string, 'secret-file'?: string, 'public-key'?: string }): VerifyKey | undefined {
  if (v.secret !== undefined) return { secret: v.secret, label: 'the --secret' }
  if (v['secret-file'] !== undefined) {
    try {
      return { secret: readSecretFile(v['secret-file']), label: 'the --secret-file' }
    } catch {
      throw new UsageError(`cannot read --secret-file ${v['secret-file']}`)
    }
  }
  if (v['public-key'] !== undefined) {
    try {
      return { publicKey: createPublicKey(readOr(v['public-key'], '--public-key')), label: 'the --public-key' }
    } catch (err) {
      throw err instanceof UsageError ? err : new UsageError('--public-key is not a PEM public key or certificate')
    }
  }
  return undefined
}

function readOr (path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    throw new UsageError(`cannot read ${flag} ${path}`)
  }
}
