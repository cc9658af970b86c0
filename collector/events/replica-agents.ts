import type { ChangeEvent, ChangeNotifier } from './types.ts';

export interface ReplicaAgentsOptions {
  notifier: Pick<ChangeNotifier, 'origin' | 'publish' | 'subscribe'>;
  /** agents connected to this replica now (AgentEndpoint.connectedAgents) */
  local: () => number;
  /** how often the local count is looked at, and sent if it changed (default 1000 ms) */
  checkMs?: number;
  /** the local count is sent at least this often, changed or not, as the replica's heartbeat (default 5000 ms) */
  everyMs?: number;
  /** another replica not heard of for this long is gone: its agents no longer count (default 3 × everyMs) */
  staleMs?: number;
}

/**
 * The fleet's connected agents, all replicas together: each replica sends its own count (an
 * `agents` change) when it changes and every `everyMs`, and adds up the others' latest counts.
 * A replica that died stops sending and drops out after `staleMs`; its agents, failed over to
 * the others, are counted there. Alone (in-process), the total is the local count.
 *
 * @example
 * const fleet = new ReplicaAgents({ notifier, local: () => endpoint.connectedAgents() });
 * fleet.start();
 * fleet.total(); // this replica's agents + every live replica's
 */
export class ReplicaAgents {
  private readonly others = new Map<string, { agents: number; at: number }>();
  private readonly checkMs: number;
  private readonly everyMs: number;
  private readonly staleMs: number;
  private readonly off: () => void;
  private timer: NodeJS.Timeout | null = null;
  private lastSent: number | null = null;
  private lastSentAt = 0;

  constructor(private readonly o: ReplicaAgentsOptions) {
    this.checkMs = o.checkMs ?? 1000;
    this.everyMs = o.everyMs ?? 5000;
    this.staleMs = o.staleMs ?? 3 * this.everyMs;
    for (const [name, v] of [['checkMs', this.checkMs], ['everyMs', this.everyMs], ['staleMs', this.staleMs]] as const) {
      if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`'${name}' must be a number > 0, got ${v}`);
    }
    this.off = o.notifier.subscribe((e) => this.observe(e));
  }

  /** Starts sending this replica's count (at once, then as it changes and every everyMs). */
  start(): void {
    if (this.timer) return;
    this.check();
    this.timer = setInterval(() => this.check(), this.checkMs);
    this.timer.unref();
  }

  /** This replica's agents plus every live other replica's. */
  total(now = Date.now()): number {
    let sum = this.o.local();
    for (const [origin, v] of this.others) {
      if (now - v.at > this.staleMs) this.others.delete(origin);
      else sum += v.agents;
    }
    return sum;
  }

  /** Other replicas heard of recently, with their counts. */
  replicas(now = Date.now()): Array<{ origin: string; agents: number }> {
    this.total(now);
    return [...this.others].map(([origin, v]) => ({ origin, agents: v.agents }));
  }

  /** Stops; a replica that had said its count says 0, so the others stop counting its agents now. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.off();
    if (this.lastSent !== null && this.lastSent !== 0) await this.o.notifier.publish([{ kind: 'agents', deviceId: null, agents: 0 }]);
    this.lastSent = null;
  }

  private check(): void {
    const agents = this.o.local();
    const now = Date.now();
    if (agents === this.lastSent && now - this.lastSentAt < this.everyMs) return;
    this.lastSent = agents;
    this.lastSentAt = now;
    void this.o.notifier.publish([{ kind: 'agents', deviceId: null, agents }]);
  }

  private observe(e: ChangeEvent): void {
    if (e.kind !== 'agents' || e.origin === this.o.notifier.origin || e.agents === undefined) return;
    this.others.set(e.origin, { agents: e.agents, at: Date.now() });
  }
}
