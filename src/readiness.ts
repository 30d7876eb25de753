// Readiness: config parsed, signing key usable, replay store answering, not draining (podinfo's model).

export type CheckName = 'config' | 'signing_key' | 'replay_store' | 'draining'
export type Check = () => Promise<void>

export interface ReadinessReport { ready: boolean, checks: Record<CheckName, 'ok' | 'fail'>, failing: CheckName[] }

const CHECK_TIMEOUT_MS = 500

export class Readiness {
  private draining = false
  private readonly checks: ReadonlyArray<[CheckName, Check]>

  constructor (checks: Partial<Record<Exclude<CheckName, 'draining'>, Check>>) {
    this.checks = Object.entries(checks) as Array<[CheckName, Check]>
  }

  /** SIGTERM: the load balancer must stop sending before the server stops accepting. */
  startDraining (): void {
    this.draining = true
  }

  get isDraining (): boolean {
    return this.draining
  }

  async report (): Promise<ReadinessReport> {
    const results = await Promise.all(this.checks.map(async ([name, check]) => [name, await passes(check)] as const))
    const checks = Object.fromEntries([...results, ['draining', !this.draining]].map(([n, ok]) => [n, ok ? 'ok' : 'fail'])) as ReadinessReport['checks']
    const failing = (Object.keys(checks) as CheckName[]).filter((n) => checks[n] === 'fail')
    return { ready: failing.length === 0, checks, failing }
  }
}

async function passes (check: Check): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([check(), new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS) })])
    return true
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}
