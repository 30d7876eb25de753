// Rules every secret obeys before the service will start (contract §8, attack catalogue I-91/92).
import { readFileSync } from 'node:fs'

export const MIN_SECRET_BYTES = 32

/** Substrings that mark a value as copied from docs rather than generated. */
const PLACEHOLDER_MARKERS = ['changeme', 'change-me', 'change_me', 'placeholder', 'example', 'your-secret', 'your_secret', 'secret-here', 'secret_here', 'replace-me', 'replace_me']
/** Whole values that are never secrets, whatever their length. */
const PLACEHOLDER_VALUES = new Set(['secret', 'password', 'jitsi', 'test', 'default', 'none', 'null', 'undefined', 'false', 'true'])

/** Why a secret is unacceptable, as a phrase that never contains the value itself. */
export function secretProblem (value: string): string | undefined {
  const lower = value.toLowerCase()
  if (value.length === 0) return 'is empty'
  if (PLACEHOLDER_VALUES.has(lower) || PLACEHOLDER_MARKERS.some((m) => lower.includes(m))) return 'is a placeholder value'
  if (/^(.)\1*$/su.test(value)) return 'is one repeated character'
  if (Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES) return `is shorter than ${MIN_SECRET_BYTES} bytes`
  return undefined
}

/** Reads a secret file; its content is used without one trailing newline (what `echo` and k8s Secrets add). */
export function readSecretFile (path: string): string {
  return readFileSync(path, 'utf8').replace(/\r?\n$/u, '')
}

export interface ResolvedSecret { value?: string, error?: string }

/**
 * Resolves NAME or NAME_FILE from the environment. Both set is an error (which one wins
 * would be a guess); an unreadable file is an error; the message names the variable only.
 */
export function resolveSecretVar (env: NodeJS.ProcessEnv, name: string): ResolvedSecret {
  const inline = env[name]
  const file = env[`${name}_FILE`]
  if (inline !== undefined && inline !== '' && file !== undefined && file !== '') {
    return { error: `${name} and ${name}_FILE are both set; set exactly one` }
  }
  if (file !== undefined && file !== '') {
    try {
      return { value: readSecretFile(file) }
    } catch {
      return { error: `${name}_FILE cannot be read` }
    }
  }
  if (inline === undefined || inline === '') return {}
  return { value: inline }
}
