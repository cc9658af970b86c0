/**
 * Failed authentications per remote address: after `maxFailures` within `windowMs` the address
 * is refused (HTTP 429 and ws upgrades 429 with Retry-After) until that window has passed, so a
 * token cannot be guessed at network speed. Successes do not reset the count: an attacker who
 * also holds a valid token gains nothing from it.
 */
export class AuthLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 60_000,
  ) {
    if (!Number.isInteger(maxFailures) || maxFailures < 1) throw new RangeError(`'maxFailures' must be an integer >= 1, got ${maxFailures}`);
    if (!(windowMs > 0)) throw new RangeError(`'windowMs' must be > 0, got ${windowMs}`);
  }

  /** Records a failed attempt from `address`. */
  failed(address: string, now = Date.now()): void {
    const list = this.recent(address, now);
    list.push(now);
    this.failures.set(address, list);
    // addresses that stopped trying are forgotten, so the map cannot grow without bound
    if (this.failures.size > 10_000) for (const a of [...this.failures.keys()]) if (this.recent(a, now).length === 0) this.failures.delete(a);
  }

  /** Seconds until `address` may try again, or 0 when it may now. */
  blockedFor(address: string, now = Date.now()): number {
    const list = this.recent(address, now);
    if (list.length < this.maxFailures) return 0;
    const oldest = list[list.length - this.maxFailures] as number;
    return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
  }

  private recent(address: string, now: number): number[] {
    const list = (this.failures.get(address) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }
}
