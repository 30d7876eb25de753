// tap reporter: passes tap's own TAP output through untouched and appends the one
// line CI reads, "N passed, N failed", built from tap's own leaf results.
// A crashed file or a bail-out with no failing assertion still counts as a failure.
import { Transform } from 'node:stream'
import { Parser } from 'tap-parser'

export default class Summary extends Transform {
  constructor () {
    super()
    this.n = { pass: 0, fail: 0, skip: 0, todo: 0 }
    this.done = false
    this.parser = new Parser()
    this.parser.on('result', (r) => {
      if (r.todo) this.n.todo++
      else if (r.skip) this.n.skip++
      else if (r.ok) this.n.pass++
      else this.n.fail++
    })
    this.parser.on('complete', (r) => {
      this.done = true
      if (!r.ok && this.n.fail === 0) this.n.fail = r.fail || 1
    })
  }

  _transform (chunk, _enc, cb) { this.parser.write(chunk); cb(null, chunk) }

  _flush (cb) {
    this.parser.end()
    if (!this.done && this.n.fail === 0) this.n.fail = 1
    const { pass, fail, skip, todo } = this.n
    cb(null, `\n# ${skip} skipped, ${todo} todo\n${pass} passed, ${fail} failed\n`)
  }
}
