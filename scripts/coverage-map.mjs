// Coverage counts what the tests exercise in src/; demo.ts is a dev entry run by hand.
export default function coverageMap (testFile) {
  return testFile.startsWith('test/') ? ['src/'] : null
}
