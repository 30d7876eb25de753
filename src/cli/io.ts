// What every CLI command gets instead of touching process globals, so tests can run the
// commands in-process as well as spawned.
import { parseArgs, type ParseArgsConfig } from 'node:util'

export interface Io {
  out (text: string): void
  err (text: string): void
  env: NodeJS.ProcessEnv
  readStdin (): Promise<string>
  /** seconds since the epoch */
  now (): number
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export const EXIT_OK = 0
export const EXIT_FAIL = 1
export const EXIT_USAGE = 2

type Options = NonNullable<ParseArgsConfig['options']>
/** A flag with a default is always present; written out so declaration files can name it. */
export type Values<O extends Options> = {
  [K in keyof O]: (O[K]['type'] extends 'boolean' ? boolean : string) | (O[K] extends { default: unknown } ? never : undefined)
}

/** node:util parseArgs, strict, with its errors turned into UsageError. */
export function parse<O extends Options> (argv: string[], options: O, positionals = 0): { values: Values<O>, positionals: string[] } {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: positionals > 0 })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`)
  return { values: parsed.values as unknown as Values<O>, positionals: parsed.positionals }
}

export function required (value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`)
  return value
}

/** RFC 3339 → seconds, or a usage error naming the flag. */
export function isoSeconds (value: string, flag: string): number {
  const ms = Date.parse(value)
  if (!/^\d{4}-\d{2}-\d{2}T/u.test(value) || Number.isNaN(ms)) throw new UsageError(`${flag} must be an RFC 3339 date-time, e.g. 2026-11-21T15:00:00Z`)
  return Math.floor(ms / 1000)
}

export const nodeIo: Io = {
  out: (text) => { process.stdout.write(text.endsWith('\n') ? text : `${text}\n`) },
  err: (text) => { process.stderr.write(text.endsWith('\n') ? text : `${text}\n`) },
  env: process.env,
  readStdin: async () => {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  },
  now: () => Math.floor(Date.now() / 1000)
}
