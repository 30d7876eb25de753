// The ops CLI's dispatcher. Each command is `(argv, io) => exit code`, so tests can run it
// in-process; index.ts is the thin process entry behind the `jitsi-token-service` bin.
import { CHECK_CONFIG_USAGE, checkConfig } from './check-config.js'
import { DOCTOR_USAGE, doctor } from './doctor.js'
import { EXIT_FAIL, EXIT_OK, EXIT_USAGE, UsageError, type Io } from './io.js'
import { KEYGEN_USAGE, keygen } from './keygen.js'
import { SIGN_REQUEST_USAGE, signRequest } from './sign-request.js'

const COMMANDS: Record<string, { run: (argv: string[], io: Io) => Promise<number>, usage: string }> = {
  keygen: { run: keygen, usage: KEYGEN_USAGE },
  'sign-request': { run: signRequest, usage: SIGN_REQUEST_USAGE },
  'check-config': { run: checkConfig, usage: CHECK_CONFIG_USAGE },
  doctor: { run: doctor, usage: DOCTOR_USAGE }
}

export const USAGE = `usage: jitsi-token-service <command> [options]
commands:
  keygen         new EMR client key (HS256 secret or RS256/ES256 key pair)
  sign-request   sign one request and print a curl command
  check-config   validate the service configuration offline
  doctor         check a Jitsi token or join link against a Jitsi configuration
run "jitsi-token-service <command> --help" for its options`

export async function main (argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE)
    return name === undefined ? EXIT_USAGE : EXIT_OK
  }
  const command = COMMANDS[name]
  if (command === undefined) {
    io.err(`unknown command ${JSON.stringify(name)}\n${USAGE}`)
    return EXIT_USAGE
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage)
    return EXIT_OK
  }
  try {
    return await command.run(rest, io)
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${name}: ${err.message}\n${command.usage}`)
      return EXIT_USAGE
    }
    io.err(`${name}: ${(err as Error).message}`)
    return EXIT_FAIL
  }
}
