// `check-config`: runs the server's own parseConfig offline. A bad configuration prints the
// exact message the server prints before refusing to start (variable names, never values);
// a good one prints what the service will do, again without a secret.
import { readFileSync } from 'node:fs'
import { ConfigError, parseConfig, type Config } from '../config.js'
import { configSummary } from '../config/summary.js'
import { parseEnvFile } from '../services/jitsi-env.js'
import { EXIT_FAIL, EXIT_OK, UsageError, parse, type Io } from './io.js'

export const CHECK_CONFIG_USAGE = `usage: jitsi-token-service check-config [--env-file FILE]
  Validates the service configuration from the environment, or from FILE alone
  (KEY=value lines, as docker compose reads them). Exit 0 valid, 1 invalid.`

export async function checkConfig (argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { 'env-file': { type: 'string' } })
  let env: NodeJS.ProcessEnv = io.env
  if (values['env-file'] !== undefined) {
    try {
      env = parseEnvFile(readFileSync(values['env-file'], 'utf8'))
    } catch {
      throw new UsageError(`cannot read --env-file ${values['env-file']}`)
    }
  }
  let config: Readonly<Config>
  try {
    config = parseConfig(env)
  } catch (err) {
    io.err(err instanceof ConfigError ? err.message : 'Invalid configuration')
    return EXIT_FAIL
  }
  io.out(['Configuration OK', ...configSummary(config).map((l) => `  ${l}`)].join('\n'))
  return EXIT_OK
}
