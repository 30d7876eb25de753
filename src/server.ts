// Process entry: parse config (exit 1 before listening if bad), build the app, listen, shut down gracefully.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, parseConfig, type Config } from './config.js'

let config: Readonly<Config>
try {
  config = parseConfig(process.env)
} catch (err) {
  // The message names variables only; values never reach the terminal or the log shipper.
  console.error(err instanceof ConfigError ? err.message : 'Invalid configuration')
  process.exit(1)
}

const app = await buildApp(config)
closeWithGrace({ delay: 25_000 }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'fatal error, closing')
  else app.log.info({ signal }, 'shutting down')
  await app.close()
})
await app.listen({ host: config.host, port: config.port })
