// Strict JSON for request bodies: UTF-8 only, no duplicate keys, no prototype keys, bounded depth.
// JSON.parse alone is last-wins on duplicates ({"role":"patient","role":"provider"}), which lets
// a signed body mean one thing to an auditor and another to us (attack catalogue F-62/64).
import { visit } from 'jsonc-parser'

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
  if (value !== null && typeof value === 'object') {
    // Depth is measured without recursion before the (recursive) key walk: 8 000 nested
    // brackets fit in 16 KiB and overflowed the walker's stack, answering 500 (catalogue F-63).
    if (exceedsDepth(text, MAX_JSON_DEPTH)) throw new StrictJsonError('too_deep')
    checkKeys(text)
  }
  return value
}

/** true when [ / { nest deeper than `max` outside strings; `text` is already valid JSON. */
function exceedsDepth (text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}

function checkKeys (text: string): void {
  const seen: Array<Set<string> | null> = []
  let problem: StrictJsonError | undefined
  visit(text, {
    onObjectBegin: () => { seen.push(new Set()); if (seen.length > MAX_JSON_DEPTH) problem ??= new StrictJsonError('too_deep') },
    onObjectEnd: () => { seen.pop() },
    onArrayBegin: () => { seen.push(null); if (seen.length > MAX_JSON_DEPTH) problem ??= new StrictJsonError('too_deep') },
    onArrayEnd: () => { seen.pop() },
    onObjectProperty: (key, _offset, _length, _line, _char, pathSupplier) => {
      if (problem !== undefined) return
      const keys = seen[seen.length - 1]
      if (FORBIDDEN_KEYS.has(key)) problem = new StrictJsonError('forbidden_key', pointer(pathSupplier(), key))
      else if (keys?.has(key) === true) problem = new StrictJsonError('duplicate_key', pointer(pathSupplier(), key))
      else keys?.add(key)
    }
  })
  if (problem !== undefined) throw problem
}

/** A JSON pointer built only from keys that are safe to echo; anything else is masked. */
function pointer (path: ReadonlyArray<string | number>, key: string): string {
  return '/' + [...path, key].map((p) => typeof p === 'number' || /^[A-Za-z0-9_.-]{1,64}$/u.test(p) ? String(p) : '<key>').join('/')
}
