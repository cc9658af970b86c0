import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChangeEvent, ChangeNotifier } from '../../events/index.ts';
import type { Store } from '../../store/index.ts';
import type { CampaignView, DashboardSnapshot } from './types.ts';

export interface EventHubOptions {
  store: Store;
  /** agents connected now (AgentEndpoint.connectedAgents) */
  agents?: () => number;
  /** how often the store is polled while a client listens (default 1000 ms) */
  pollMs?: number;
  /** a comment line keeps idle connections (and proxies) open (default 15 s) */
  keepAliveMs?: number;
  /**
   * the collector's change events (every replica's, on PostgreSQL): each goes to the clients as an
   * event `change` and makes the store be read again at once instead of at the next poll
   */
  notifier?: Pick<ChangeNotifier, 'subscribe'>;
}

/** How long after a change event the store is read: changes that come together make one read. */
const CHANGE_READ_DELAY_MS = 25;

/** Campaigns and device counts, as the dashboard shows them. */
export async function snapshotOf(store: Store, agents: number): Promise<Omit<DashboardSnapshot, 'seq' | 'at'>> {
  const campaigns: CampaignView[] = [];
  for (const c of await store.listCampaigns()) {
    const progress = await store.campaignProgress(c.id);
    const sum = (f: 'total' | 'done' | 'failed' | 'leased') => progress.reduce((a, p) => a + p[f], 0);
    campaigns.push({
      id: c.id, name: c.request.name ?? null, space: c.request.space, createdAt: c.createdAt, request: c.request, progress,
      total: sum('total'), done: sum('done'), failed: sum('failed'), leased: sum('leased'),
    });
  }
  const devices = (await store.listDevices()).map((d) => ({ id: d.id, name: d.name, measurements: d.measurements }));
  return { agents, devices, campaigns };
}

/**
 * Server-sent events for the dashboard (`GET /api/events`). The store is polled on a timer, and
 * only while at least one client listens: polling sees results from every writer of the database
 * (agents of this collector, `hwlat profile` in another process on the same file), which a hook
 * on this process's result commits would miss. One snapshot per tick serves every client; a
 * snapshot is sent only when it differs from the last one (event `snapshot`, with an `id:` line).
 * With a notifier, each change event (event `change`: kind, device, version, the replica it came
 * from) is passed on and the store read at once, so replicas' dashboards move together.
 *
 * @example
 * const hub = new EventHub({ store, pollMs: 1000 });
 * router.on('GET', '/api/events', (req, res) => hub.subscribe(req, res));
 */
export class EventHub {
  private readonly store: Store;
  private readonly agents: () => number;
  private readonly pollMs: number;
  private readonly keepAliveMs: number;
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private last = '';
  private lastSnapshot: DashboardSnapshot | null = null;
  private seq = 0;
  private sinceWrite = 0;
  /** a poll in flight: the store is asynchronous, and a slow read must not overlap the next tick */
  private polling: Promise<boolean> | null = null;
  /** the read a change event asked for */
  private soon: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;

  constructor(options: EventHubOptions) {
    this.store = options.store;
    this.agents = options.agents ?? (() => 0);
    this.pollMs = options.pollMs ?? 1000;
    this.keepAliveMs = options.keepAliveMs ?? 15_000;
    if (!(Number.isFinite(this.pollMs) && this.pollMs >= 10)) throw new RangeError(`'pollMs' must be a number >= 10, got ${options.pollMs}`);
    if (!(Number.isFinite(this.keepAliveMs) && this.keepAliveMs >= this.pollMs)) {
      throw new RangeError(`'keepAliveMs' must be a number >= pollMs (${this.pollMs}), got ${options.keepAliveMs}`);
    }
    this.unsubscribe = options.notifier?.subscribe((e) => this.onChange(e)) ?? (() => {});
  }

  /** Clients listening now. */
  get listeners(): number {
    return this.clients.size;
  }

  /** Takes over the response as an event stream: the current snapshot at once, then each change. */
  subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // a reconnecting EventSource retries after this long
    res.write(`retry: ${Math.max(1000, this.pollMs)}\n\n`);
    this.clients.add(res);
    const drop = () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    };
    req.on('close', drop);
    res.on('close', drop);
    res.on('error', drop);
    // a change seen now goes to everyone (the others would miss it: the next tick compares against it)
    void this.poll().then(
      (changed) => {
        if (changed) this.broadcast();
        else if (this.lastSnapshot && this.clients.has(res)) this.send(res, this.lastSnapshot);
      },
      () => this.close(),
    );
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.pollMs);
      // the timer never keeps a process alive on its own
      this.timer.unref();
    }
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    this.unsubscribe();
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stop();
  }

  /** A change (this replica's or another's): told to the clients as it is, then the store re-read soon. */
  private onChange(e: ChangeEvent): void {
    if (this.clients.size === 0) return;
    // a replica's agent count is bookkeeping, shown through the snapshot's `agents`
    if (e.kind !== 'agents') {
      const text = `event: change\ndata: ${JSON.stringify(e)}\n\n`;
      for (const res of this.clients) res.write(text);
      this.sinceWrite = 0;
    }
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      // a read in flight may predate the change: the fresh read comes after it
      void (this.polling ?? Promise.resolve(false)).catch(() => false).then(() => this.tick());
    }, CHANGE_READ_DELAY_MS);
    this.soon.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.timer = this.soon = null;
  }

  private async tick(): Promise<void> {
    if (this.clients.size === 0) return this.stop();
    if (this.polling) return; // the last tick's read is still running
    let changed: boolean;
    try {
      changed = await this.poll();
    } catch {
      // a closed store (server shutting down) ends the streams instead of throwing from a timer
      return this.close();
    }
    if (changed) this.broadcast();
    else if ((this.sinceWrite += this.pollMs) >= this.keepAliveMs) {
      for (const res of this.clients) res.write(': keep-alive\n\n');
      this.sinceWrite = 0;
    }
  }

  /** Reads the store; true when the snapshot changed since the last poll. One read at a time. */
  private poll(): Promise<boolean> {
    this.polling ??= snapshotOf(this.store, this.agents())
      .then((body) => {
        const text = JSON.stringify(body);
        if (text === this.last) return false;
        this.last = text;
        this.lastSnapshot = { seq: ++this.seq, at: new Date().toISOString(), ...body };
        return true;
      })
      .finally(() => {
        this.polling = null;
      });
    return this.polling;
  }

  private broadcast(): void {
    if (!this.lastSnapshot) return;
    for (const res of this.clients) this.send(res, this.lastSnapshot);
    this.sinceWrite = 0;
  }

  private send(res: ServerResponse, s: DashboardSnapshot): void {
    res.write(`id: ${s.seq}\nevent: snapshot\ndata: ${JSON.stringify(s)}\n\n`);
  }
}
