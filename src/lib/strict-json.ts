// Strict JSON for request bodies: UTF-8 only, no duplicate keys, no prototype keys, bounded depth.
// JSON.parse alone is last-wins on duplicates ({"role":"patient","role":"provider"}), which lets
// a signed body mean one thing to an auditor and another to us (attack catalogue F-62/64).

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
export const MAX_JSON_DEPTH = 32

export type StrictJsonProblem = 'not_utf8' | 'syntax' | 'duplicate_key' | 'forbidden_key' | 'too_deep'

export class StrictJsonError extends Error {
  readonly rule: StrictJsonProblem
  readonly path: string
  constructor (rule: StrictJsonProblem, path = '') {
    super(rule)
    this.rule = rule
    this.path = path
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Parses bytes as one JSON value or throws StrictJsonError (rule + JSON-pointer path, never content). */
export function parseStrictJson (bytes: Uint8Array): unknown {
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    throw new StrictJsonError('not_utf8')
  }
  let value: unknown
  try {
    // JSON.parse is the authority on syntax (it rejects the BOM, comments and trailing commas).
    value = JSON.parse(text)
  } catch {
    throw new StrictJsonError('syntax')
  }
  if (value !== null && typeof value === 'object') checkKeys(text)
  return value
}

/** One open container while walking keys: an object's keys so far and current key, or an array's index. */
interface Frame { keys: Set<string> | null, key: string, index: number }

/**
 * Walks `text`, already valid JSON, and throws at the first forbidden or duplicate key (with a JSON
 * pointer to it) or at nesting deeper than MAX_JSON_DEPTH. One iterative pass: no recursion, so
 * 8 000 nested brackets in 16 KiB cannot overflow the stack (catalogue F-63), and no second scan for
 * depth. Hand-written because jsonc-parser's visitor cost ~4 % of a visit request
 * (docs/performance.md). Only strings need care (they may hold brackets and commas); keys with
 * escapes are decoded by JSON.parse so "\u0072ole" is "role".
 */
function checkKeys (text: string): void {
  const frames: Frame[] = []
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) { // "
      let j = i + 1
      let escaped = false
      for (let d = text.charCodeAt(j); d !== 0x22; d = text.charCodeAt(j)) {
        if (d === 0x5c) { escaped = true; j += 2 } else j++
      }
      if (expectKey) {
        const key = escaped ? JSON.parse(text.slice(i, j + 1)) as string : text.slice(i + 1, j)
        const frame = frames[frames.length - 1] as Frame
        if (FORBIDDEN_KEYS.has(key)) throw new StrictJsonError('forbidden_key', pointer(pathOf(frames), key))
        if ((frame.keys as Set<string>).has(key)) throw new StrictJsonError('duplicate_key', pointer(pathOf(frames), key))
        ;(frame.keys as Set<string>).add(key)
        frame.key = key
        expectKey = false
      }
      i = j
    } else if (c === 0x7b) { // {
      if (frames.push({ keys: new Set(), key: '', index: 0 }) > MAX_JSON_DEPTH) throw new StrictJsonError('too_deep')
      expectKey = true
    } else if (c === 0x5b) { // [
      if (frames.push({ keys: null, key: '', index: 0 }) > MAX_JSON_DEPTH) throw new StrictJsonError('too_deep')
    } else if (c === 0x7d || c === 0x5d) { // } ]
      frames.pop()
      expectKey = false
    } else if (c === 0x2c) { // ,
      const frame = frames[frames.length - 1] as Frame
      if (frame.keys === null) frame.index++
      else expectKey = true
    }
  }
}

/** Path to the innermost container: each ancestor's current key or index. */
function pathOf (frames: readonly Frame[]): Array<string | number> {
  const path: Array<string | number> = []
  for (let f = 0; f < frames.length - 1; f++) {
    const frame = frames[f] as Frame
    path.push(frame.keys === null ? frame.index : frame.key)
  }
  return path
}

/** A JSON pointer built only from keys that are safe to echo; anything else is masked. */
function pointer (path: ReadonlyArray<string | number>, key: string): string {
  return '/' + [...path, key].map((p) => typeof p === 'number' || /^[A-Za-z0-9_.-]{1,64}$/u.test(p) ? String(p) : '<key>').join('/')
}
