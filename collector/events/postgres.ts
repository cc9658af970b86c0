import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { firstZodIssue } from '../../protocol/index.ts';
import { Listeners } from './listeners.ts';
import { ChangeEventSchema, type Change, type ChangeEvent, type ChangeListener, type ChangeNotifier } from './types.ts';

export interface PgNotifierOptions {
  /** the database the replicas share: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE */
  url: string;
  /** the NOTIFY channel (default 'hwlat_changes'); replicas of one fleet use the same */
  channel?: string;
  /** this replica's id in events (default: a random one) */
  origin?: string;
  /** how long a connection may take to open (default 5000 ms) */
  connectTimeoutMs?: number;
  /** the listening connection's reconnect backoff: full jitter from baseMs (200) doubling to capMs (5000) */
  reconnect?: { baseMs?: number; capMs?: number };
  log?: (event: Record<string, unknown>) => void;
}

/** The notifier could not listen: the message names the database (without its password) and why. */
export class PgNotifierError extends Error {
  override readonly name = 'PgNotifierError';
  constructor(
    readonly database: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot listen for collector changes on ${database}: ${reason}`, options);
  }
}

export const DEFAULT_CHANNEL = 'hwlat_changes';

/** The URL as logs and errors may show it: the password replaced. */
export function redactUrl(url: string): string {
  // a file path (a SQLite --db) is shown as it is
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

/**
 * Every write on one replica reaches all replicas' listeners: each batch of changes is one
 * `NOTIFY hwlat_changes` per change, sent after the writes committed, with the version of the
 * notifying transaction (`txid_current()`: increasing across every session of the server, so
 * the same change carries the same version on every replica, and a later one a larger version).
 * One connection LISTENs (and reconnects with backoff when it drops, then tells its listeners
 * `resync`: notifications sent meanwhile are lost, as LISTEN/NOTIFY does not queue for a
 * session that is gone); a pool of two sends.
 *
 * @example
 * const notifier = new PgNotifier({ url: 'postgres://hwlat@127.0.0.1:5432/hwlat' });
 * await notifier.start();
 * notifier.subscribe((e) => console.log(e.kind, e.deviceId, e.version, e.origin));
 * await notifier.publish([{ kind: 'measurements', deviceId: 'dev-0123456789ab' }]);
 */
export class PgNotifier implements ChangeNotifier {
  readonly kind = 'postgres' as const;
  readonly origin: string;
  /** the database, password hidden */
  readonly database: string;
  readonly channel: string;
  private readonly url: string;
  private readonly connectTimeoutMs: number;
  private readonly log: (event: Record<string, unknown>) => void;
  private readonly listeners: Listeners;
  private readonly pool: pg.Pool;
  private client: pg.Client | null = null;
  private starting: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;

  constructor(private readonly options: PgNotifierOptions) {
    if (typeof options?.url !== 'string' || !/^postgres(ql)?:\/\/[^/]/i.test(options.url)) {
      throw new TypeError(`'url' must be a postgres:// or postgresql:// URL, got '${redactUrl(String(options?.url))}'`);
    }
    const channel = options.channel ?? DEFAULT_CHANNEL;
    // LISTEN takes an identifier, not a parameter: only plain names
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new TypeError(`'channel' must be a lower-case identifier (a-z, 0-9, _; at most 63), got '${channel}'`);
    const timeout = options.connectTimeoutMs ?? 5000;
    if (!Number.isInteger(timeout) || timeout <= 0) throw new RangeError(`'connectTimeoutMs' must be a positive integer, got ${options.connectTimeoutMs}`);
    this.url = options.url;
    this.channel = channel;
    this.connectTimeoutMs = timeout;
    this.database = redactUrl(options.url);
    this.origin = options.origin ?? `replica-${randomUUID().slice(0, 8)}`;
    this.log = options.log ?? (() => {});
    this.listeners = new Listeners(this.log);
    this.pool = new pg.Pool({ connectionString: this.url, max: 2, connectionTimeoutMillis: timeout, application_name: 'hwlat-notify' });
    // an idle pooled connection the server dropped: logged; the pool opens another on the next publish
    this.pool.on('error', (e) => this.log({ event: 'notifier_error', side: 'notify', message: e.message }));
  }

  /** Whether the listening connection is up now. */
  get listening(): boolean {
    return this.client !== null;
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(new PgNotifierError(this.database, 'the notifier is closed'));
    this.starting ??= this.listen().catch((e: unknown) => {
      this.starting = null;
      throw new PgNotifierError(this.database, (e as Error).message, { cause: e });
    });
    return this.starting;
  }

  async publish(changes: readonly Change[]): Promise<void> {
    if (this.closed || changes.length === 0) return;
    const at = new Date().toISOString();
    const events = changes.map((c) => ({
      kind: c.kind, deviceId: c.deviceId,
      ...(c.campaignId !== undefined ? { campaignId: c.campaignId } : {}), ...(c.agents !== undefined ? { agents: c.agents } : {}),
      origin: this.origin, at,
    }));
    try {
      // one statement, one transaction: the batch shares its version; a payload stays far below NOTIFY's 8000 bytes
      await this.pool.query(
        `SELECT pg_notify($1, (e || jsonb_build_object('version', txid_current()))::text) FROM jsonb_array_elements($2::jsonb) AS e`,
        [this.channel, JSON.stringify(events)],
      );
    } catch (e) {
      this.log({ event: 'notify_failed', changes: changes.length, message: (e as Error).message });
    }
  }

  subscribe(listener: ChangeListener): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.listeners.clear();
    const client = this.client;
    this.client = null;
    await Promise.all([client?.end().catch(() => {}), this.pool.end().catch(() => {})]);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.connectTimeoutMs, application_name: 'hwlat-listen' });
    client.on('notification', (m) => {
      if (m.channel === this.channel) this.onPayload(m.payload);
    });
    // an error or end of the listening connection: reconnect (only the current one counts)
    client.on('error', (e) => this.lost(client, e.message));
    client.on('end', () => this.lost(client, 'connection ended'));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (e) {
      await client.end().catch(() => {});
      throw e;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
  }

  private onPayload(payload: string | undefined): void {
    let event: ChangeEvent;
    try {
      const parsed = ChangeEventSchema.safeParse(JSON.parse(payload ?? ''));
      if (!parsed.success) throw new Error(firstZodIssue(parsed.error).message);
      event = parsed.data;
    } catch (e) {
      // another program on the channel, or a newer replica: not ours to act on
      this.log({ event: 'notification_ignored', reason: (e as Error).message, payload: String(payload).slice(0, 200) });
      return;
    }
    this.listeners.emit(event);
  }

  private lost(client: pg.Client, reason: string): void {
    if (client !== this.client || this.closed) return;
    this.client = null;
    client.end().catch(() => {});
    this.log({ event: 'notifier_disconnected', database: this.database, reason });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const base = this.options.reconnect?.baseMs ?? 200;
    const cap = this.options.reconnect?.capMs ?? 5000;
    const delay = Math.floor(Math.random() * Math.min(cap, base * 2 ** Math.min(this.failures, 30)));
    this.failures++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.closed) return;
      this.listen().then(
        () => {
          if (this.closed) return;
          this.failures = 0;
          this.log({ event: 'notifier_reconnected', database: this.database });
          // what was notified while this replica did not listen is gone: its listeners re-read
          this.listeners.emit({ kind: 'resync', deviceId: null, version: 0, origin: this.origin, at: new Date().toISOString() });
        },
        (e: unknown) => {
          this.log({ event: 'notifier_reconnect_failed', database: this.database, message: (e as Error).message });
          if (!this.closed) this.scheduleReconnect();
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }
}
