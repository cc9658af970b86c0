import type { StoreUnavailableError } from '../store/index.ts';

/** Why the store is unhealthy: since when writes fail, and the last failure. */
export interface StoreFailure {
  since: string;
  code: string;
  error: string;
}

/**
 * Whether the store takes writes, as the collector last saw it: unhealthy from a write that
 * failed with StoreUnavailableError (disk full, I/O error) until the next write that succeeds.
 * `GET /api/health` answers 503 meanwhile, so a load balancer or a supervisor sees the outage
 * while agents keep their results and retry.
 */
export class StoreHealth {
  private failure: StoreFailure | null = null;

  failed(e: StoreUnavailableError): void {
    this.failure = { since: this.failure?.since ?? new Date().toISOString(), code: e.code, error: e.message };
  }

  ok(): void {
    this.failure = null;
  }

  /** The failure now, or null when the last write succeeded. */
  get current(): StoreFailure | null {
    return this.failure;
  }
}
