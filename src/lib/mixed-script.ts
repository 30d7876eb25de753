// Homoglyph signal (attack catalogue G-77): a name mixing confusable scripts ("Dr. Smіth" with a
// Cyrillic і) is accepted, since names come from the EMR, but counted so ops can look.
const CONFUSABLE_SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u, /\p{Script=Armenian}/u, /\p{Script=Cherokee}/u]

/** True when letters from two or more look-alike scripts appear in one name. */
export function isMixedScript (name: string): boolean {
  let scripts = 0
  for (const script of CONFUSABLE_SCRIPTS) if (script.test(name) && ++scripts > 1) return true
  return false
}
