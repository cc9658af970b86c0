import { randomUUID } from 'node:crypto';
import { Listeners } from './listeners.ts';
import type { Change, ChangeListener, ChangeNotifier } from './types.ts';

export interface InProcessNotifierOptions {
  /** this process's id in events (default: a random one) */
  origin?: string;
  log?: (event: Record<string, unknown>) => void;
}

/**
 * One collector process on its own database (SQLite): changes go to this process's listeners
 * only, versions count up from 1 per process. What the collector did before replicas, with the
 * changes announced instead of only polled for.
 */
export class InProcessNotifier implements ChangeNotifier {
  readonly kind = 'in-process' as const;
  readonly origin: string;
  private readonly listeners: Listeners;
  private version = 0;
  private closed = false;

  constructor(options: InProcessNotifierOptions = {}) {
    this.origin = options.origin ?? `proc-${randomUUID().slice(0, 8)}`;
    this.listeners = new Listeners(options.log ?? (() => {}));
  }

  async start(): Promise<void> {}

  async publish(changes: readonly Change[]): Promise<void> {
    if (this.closed || changes.length === 0) return;
    // one version per published batch, as one transaction's changes share one on PostgreSQL
    const version = ++this.version;
    const at = new Date().toISOString();
    for (const c of changes) {
      this.listeners.emit({
        kind: c.kind, deviceId: c.deviceId,
        ...(c.campaignId !== undefined ? { campaignId: c.campaignId } : {}), ...(c.agents !== undefined ? { agents: c.agents } : {}),
        version, origin: this.origin, at,
      });
    }
  }

  subscribe(listener: ChangeListener): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}
