// /proc readings shared by the orchestrator (run.mjs) and the load process (load.mjs).
import { readFileSync } from 'node:fs'

/** Resident set size of a process in MB (one decimal), or null when /proc cannot be read. */
export function rssMb (pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/u.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? null : Math.round(Number(m[1]) / 102.4) / 10
  } catch {
    return null
  }
}
