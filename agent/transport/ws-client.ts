import WebSocket from 'ws';
import {
  describeZodError, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, ServerMessageSchema,
  type AgentMessage, type ErrorCode, type ErrorMessage, type Hello, type ResultMessage, type ServerMessage,
} from '../../protocol/index.ts';
import type { ResultOutbox } from './outbox-types.ts';

/** What the transport and the agent loop report: `{ event: 'connected', … }`; printed as JSON lines by the CLI. */
export type AgentEvent = { event: string } & Record<string, unknown>;
export type AgentLog = (event: AgentEvent) => void;

export type Welcome = Extract<ServerMessage, { type: 'welcome' }>;
type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** Codes after which reconnecting cannot help: the agent stops for good. */
export const FATAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['unauthorized', 'version']);
/** Codes that refuse one result for good: it is dropped from the outbox (re-sending would get the same answer). */
export const PERMANENT_RESULT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['unknown_job', 'not_leased', 'wrong_device', 'bad_message', 'too_large']);

/** The collector refused this agent (wrong token, protocol version): retrying cannot help. */
export class CollectorRefusedError extends Error {
  override readonly name = 'CollectorRefusedError';
  constructor(readonly code: ErrorCode, readonly url: string, serverMessage: string) {
    super(
      code === 'unauthorized'
        ? `collector ${url} refused the agent: unauthorized (${serverMessage}); check the agent's token (--token or HWLAT_TOKEN)`
        : `collector ${url} refused the agent: ${code} (${serverMessage}); this agent speaks protocol version ${PROTOCOL_VERSION}`,
    );
  }
}

/** The collector answered a request with an `error`. */
export class CollectorError extends Error {
  override readonly name = 'CollectorError';
  constructor(readonly code: ErrorCode, message: string, readonly field?: string) {
    super(`collector error ${code}${field ? ` at '${field}'` : ''}: ${message}`);
  }
}

/** No reply within the request's time limit. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

/** The connection was closed by `close()` while something waited on it. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
}

export interface BackoffOptions {
  /** first retry delay ceiling in ms (default 200) */
  baseMs?: number;
  /** largest retry delay ceiling in ms (default 5000) */
  capMs?: number;
  /** random source in [0, 1), for tests */
  random?: () => number;
}

/** The connection's collector URLs, checked: an error names the bad one. */
export function collectorUrls(url: string | readonly string[], name = 'url'): string[] {
  const urls = typeof url === 'string' ? [url] : Array.isArray(url) ? [...(url as readonly unknown[])] : [];
  if (urls.length === 0) throw new TypeError(`'${name}' must be a ws:// or wss:// URL or a non-empty list of them, got ${JSON.stringify(url)}`);
  for (const u of urls) {
    if (typeof u !== 'string' || !/^wss?:\/\/[^/]/.test(u)) throw new TypeError(`'${name}' must hold ws:// or wss:// URLs, got '${String(u)}'`);
  }
  const seen = new Set<string>();
  for (const u of urls as string[]) {
    if (seen.has(u)) throw new TypeError(`'${name}' names '${u}' twice`);
    seen.add(u);
  }
  return urls as string[];
}

/**
 * The delay before the next connection attempt after `failures` consecutive failed ones over
 * `count` collectors: none while the round of collectors is not through (the next one may well be
 * up), the backoff of the round once it is. One collector: backoffDelay(failures - 1), as before.
 */
export function failoverDelay(failures: number, count: number, options: BackoffOptions = {}): number {
  if (failures <= 0 || failures % count !== 0) return 0;
  return backoffDelay(failures / count - 1, options);
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base · 2^attempt)). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 200;
  const cap = options.capMs ?? 5000;
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

export interface ConnectionOptions {
  /**
   * ws:// or wss:// URL of the collector's agent endpoint, or several (replicas of one collector on
   * one database): one is used at a time; a connection that fails (refused, closed, handshake or
   * ping timeout) moves on to the next, at once, and a full round of failures backs off (see
   * `backoff`) before the next round. The outbox goes with the agent from one to the next.
   */
  url: string | readonly string[];
  hello: Hello;
  /** unacknowledged results: re-sent after every welcome, trimmed on ack */
  outbox: ResultOutbox;
  backoff?: BackoffOptions;
  /** time to open the socket and get `welcome` before trying again (default 10 s) */
  handshakeTimeoutMs?: number;
  /** ws ping period; a connection that misses a pong for this long is dropped and reopened (default 15 s, 0 = off) */
  pingMs?: number;
  log?: AgentLog;
}

export interface MessageInfo {
  /** true when a pending `request()` took this message as its reply */
  claimed: boolean;
}

interface Pending {
  message: AgentMessage;
  type: ServerMessage['type'];
  resolve(msg: ServerMessage): void;
  reject(error: Error): void;
  /** sent on the current socket (a reconnect re-sends it) */
  sentOn: WebSocket | null;
}

interface Waiter {
  resolve(w: Welcome): void;
  reject(e: Error): void;
}

const encoder = new TextEncoder();
/** UTF-8 size of a frame (TextEncoder rather than Buffer: the browser agent shares this file). */
function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
}

/**
 * A reconnecting ws connection to the collector. Every (re)connect says `hello`, waits for
 * `welcome`, then re-sends every outbox entry before any request (a lease request must not come
 * before the results that complete its jobs). Inbound messages are validated with
 * ServerMessageSchema; an invalid one is logged and ignored. `ack` trims the outbox; an `error`
 * refusing a result for good (unknown_job, not_leased, wrong_device, bad_message) drops it from the
 * outbox; a passing one (store_unavailable, leased_elsewhere, internal) re-sends it on the same
 * socket with a growing backoff; `unauthorized` or `version` stops the connection for good with
 * CollectorRefusedError (given several collectors, once every one of them refused it).
 *
 * Given several URLs (collector replicas on one database), it uses one at a time and fails over to
 * the next when a connection fails or drops, backing off only after a whole round failed. Nothing
 * in the outbox is lost on the way: what the old collector did not acknowledge is sent to the next
 * one under the same result ids, so a result the old one had stored is acked there as a duplicate,
 * never stored twice. The collectors must share one database: one that does not know a result's
 * job refuses it for good (unknown_job) and it is dropped.
 *
 * @example
 * const conn = new CollectorConnection({ url: 'ws://127.0.0.1:7070/agent', hello, outbox, log: console.log });
 * conn.start();
 * await conn.ready();
 * const lease = await conn.request({ type: 'lease_request', max: 4 }, 'lease');
 * await conn.submit(result); // outbox first, then the wire
 * await conn.close();
 *
 * // two replicas behind no load balancer: the agent uses the first and moves to the second if it dies
 * new CollectorConnection({ url: ['ws://10.0.0.1:8700/ws', 'ws://10.0.0.2:8700/ws'], hello, outbox });
 */
export class CollectorConnection {
  private readonly o: ConnectionOptions;
  private readonly log: AgentLog;
  private ws: WebSocket | null = null;
  private session: Welcome | null = null;
  private state: 'idle' | 'connecting' | 'ready' | 'closed' = 'idle';
  /** failed connection attempts since the last welcome */
  private attempt = 0;
  private readonly urls: readonly string[];
  /** the collector in use (index into urls) */
  private current = 0;
  private fatal: Error | null = null;
  /** the collectors that refused this agent since its last welcome */
  private readonly refusedBy = new Set<string>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private waiters: Waiter[] = [];
  private pending: Pending[] = [];
  /**
   * From a welcome until the outbox went out on that socket: requests (and ready()) wait. The
   * collector handles a socket's frames in order, so results it did not commit before the drop
   * complete their jobs before a lease request could hand the same jobs back (their leases
   * expired meanwhile) to be measured a second time, and that second result acked as a duplicate.
   */
  private resending = false;
  /**
   * results sent on the current socket: a result submitted while a welcome's re-send of the outbox
   * was listing it would otherwise go out twice on the same socket (once by submit, once by the re-send)
   */
  private sentOnSocket = new Set<string>();
  private readonly listeners = new Set<(msg: ServerMessage, info: MessageInfo) => void>();
  private closeWaiters: Array<() => void> = [];
  /** result id → re-sends after a passing error, for the backoff of the next one */
  private readonly retries = new Map<string, number>();
  private connections = 0;

  constructor(options: ConnectionOptions) {
    this.urls = collectorUrls(options.url);
    this.o = options;
    this.log = options.log ?? (() => {});
  }

  /** The current session's welcome, or null while (re)connecting. */
  get welcome(): Welcome | null {
    return this.state === 'ready' ? this.session : null;
  }

  /** Why the connection stopped for good, if it did. */
  get fatalError(): Error | null {
    return this.fatal;
  }

  /** The collector URL in use now (or being connected to). */
  get url(): string {
    return this.urls[this.current] as string;
  }

  /** Sockets opened so far (for logs and tests). */
  get connectionCount(): number {
    return this.connections;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.connect();
  }

  /** Resolves with the welcome once connected (now, or after the next successful reconnect). */
  ready(signal?: AbortSignal): Promise<Welcome> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.state === 'closed') return Promise.reject(new ConnectionClosedError('connection closed'));
    if (this.state === 'ready' && this.session && !this.resending) return Promise.resolve(this.session);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<Welcome>((resolve, reject) => {
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(abortError(signal as AbortSignal));
      };
      const waiter: Waiter = {
        resolve: (w) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(w);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Listens to every valid inbound message (after the connection handled it). Returns the unsubscribe. */
  onMessage(listener: (msg: ServerMessage, info: MessageInfo) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends now if connected and welcomed; returns false (sending nothing) otherwise. */
  send(message: AgentMessage): boolean {
    const ws = this.ws;
    if (this.state !== 'ready' || !ws || ws.readyState !== WebSocket.OPEN) return false;
    const text = JSON.stringify(message);
    if (utf8Bytes(text) > MAX_MESSAGE_BYTES) {
      throw new RangeError(`'${message.type}' message of ${utf8Bytes(text)} bytes exceeds the protocol limit of ${MAX_MESSAGE_BYTES}`);
    }
    ws.send(text);
    return true;
  }

  /**
   * Stores a result in the outbox, then sends it if connected. Not connected is fine: every
   * welcome re-sends the outbox. Resolves with whether it went out now.
   */
  async submit(result: ResultMessage): Promise<boolean> {
    const size = utf8Bytes(JSON.stringify(result));
    if (size > MAX_MESSAGE_BYTES) throw new RangeError(`result ${result.resultId} of ${size} bytes exceeds the protocol limit of ${MAX_MESSAGE_BYTES}`);
    await this.o.outbox.put(result);
    if (this.sentOnSocket.has(result.resultId)) return true;
    const sent = this.send(result);
    if (sent) this.sentOnSocket.add(result.resultId);
    return sent;
  }

  /**
   * Sends `message` once connected and resolves with the first inbound message of type `replyType`.
   * If the connection drops first, the request is sent again after the reconnect. An `error` that
   * is not about a result or a job_failed rejects it with CollectorError.
   */
  request<T extends ServerMessage['type']>(
    message: AgentMessage,
    replyType: T,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<ServerMessageOf<T>> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.state === 'closed') return Promise.reject(new ConnectionClosedError('connection closed'));
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<ServerMessageOf<T>>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending = this.pending.filter((p) => p !== entry);
      };
      const onAbort = () => {
        done();
        reject(abortError(signal as AbortSignal));
      };
      const entry: Pending = {
        message,
        type: replyType,
        sentOn: null,
        resolve: (msg) => {
          done();
          resolve(msg as ServerMessageOf<T>);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => entry.reject(new RequestTimeoutError(`no '${replyType}' reply to '${message.type}' within ${timeoutMs} ms`)), timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.push(entry);
      // while the outbox is re-sent, the request waits for its turn (see `resending`)
      if (!this.resending && this.send(message)) entry.sentOn = this.ws;
    });
  }

  /** Stops reconnecting and closes the socket; waiting calls reject with ConnectionClosedError. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.stop(new ConnectionClosedError('connection closed'));
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        this.closeWaiters.push(resolve);
        const force = setTimeout(() => ws.terminate(), 1000);
        ws.once('close', () => clearTimeout(force));
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'agent stopping');
      });
    }
    this.log({ event: 'closed' });
  }

  private stop(reason: Error): void {
    this.state = 'closed';
    this.clearTimers();
    for (const w of this.waiters.splice(0)) w.reject(reason);
    for (const p of this.pending.slice()) p.reject(reason);
  }

  private clearTimers(): void {
    for (const t of [this.reconnectTimer, this.handshakeTimer, this.pingTimer]) if (t) clearTimeout(t);
    this.reconnectTimer = this.handshakeTimer = this.pingTimer = null;
  }

  private connect(): void {
    this.state = 'connecting';
    this.session = null;
    this.connections++;
    this.log({ event: 'connecting', url: this.url, attempt: this.attempt });
    const handshakeMs = this.o.handshakeTimeoutMs ?? 10_000;
    const ws = new WebSocket(this.url, { handshakeTimeout: handshakeMs });
    this.ws = ws;
    // the whole handshake (socket + hello/welcome) must finish in time, or the socket is dropped and reopened
    this.handshakeTimer = setTimeout(() => {
      this.log({ event: 'handshake_timeout', afterMs: handshakeMs });
      ws.terminate();
    }, handshakeMs);
    let alive = true;
    let lastError: string | null = null;
    ws.on('open', () => {
      ws.send(JSON.stringify(this.o.hello));
      const pingMs = this.o.pingMs ?? 15_000;
      if (pingMs > 0) {
        const tick = () => {
          if (!alive) {
            this.log({ event: 'ping_timeout', afterMs: pingMs });
            ws.terminate();
            return;
          }
          alive = false;
          ws.ping();
          this.pingTimer = setTimeout(tick, pingMs);
        };
        this.pingTimer = setTimeout(tick, pingMs);
      }
    });
    ws.on('pong', () => (alive = true));
    ws.on('message', (data, isBinary) => {
      alive = true;
      if (ws !== this.ws) return;
      this.onFrame(ws, data, isBinary);
    });
    // 'close' always follows 'error'; the error is reported with it
    ws.on('error', (e) => (lastError = e.message));
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString(), lastError));
  }

  private onClose(ws: WebSocket, code: number, reason: string, error: string | null): void {
    for (const resolve of this.closeWaiters.splice(0)) resolve();
    if (ws !== this.ws) return;
    this.ws = null;
    this.session = null;
    if (this.state === 'closed') return;
    this.clearTimers();
    for (const p of this.pending) p.sentOn = null;
    const from = this.url;
    this.attempt++;
    const retryInMs = failoverDelay(this.attempt, this.urls.length, this.o.backoff);
    this.state = 'connecting';
    this.log({ event: 'disconnected', url: from, code, ...(reason ? { reason } : {}), ...(error ? { error } : {}), retryInMs });
    if (this.urls.length > 1) {
      // the next collector; the outbox and the requests waiting go with the agent (sent after its welcome)
      this.current = (this.current + 1) % this.urls.length;
      this.log({ event: 'failover', from, to: this.url, round: Math.floor((this.attempt - 1) / this.urls.length), retryInMs });
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.state !== 'closed') this.connect();
    }, retryInMs);
  }

  private onFrame(ws: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.log({ event: 'invalid_message', reason: 'binary frame' });
      return;
    }
    // the browser's socket (agent/browser/ws-shim.ts) hands over text frames as strings
    const text =
      typeof (data as unknown) === 'string' ? (data as unknown as string)
      : Array.isArray(data) ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as ArrayBuffer).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      this.log({ event: 'invalid_message', reason: `not JSON: ${(e as Error).message}`, text: text.slice(0, 200) });
      return;
    }
    const parsed = ServerMessageSchema.safeParse(json);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      this.log({ event: 'invalid_message', reason: message, field, text: text.slice(0, 200) });
      return;
    }
    const msg = parsed.data;
    if (msg.type === 'error' && FATAL_CODES.has(msg.code)) {
      this.fail(new CollectorRefusedError(msg.code, this.url, msg.message), ws);
      return;
    }
    if (this.state !== 'ready') {
      if (msg.type === 'welcome') this.onWelcome(ws, msg);
      else this.log({ event: 'unexpected_message', type: msg.type, before: 'welcome', ...(msg.type === 'error' ? { code: msg.code, message: msg.message } : {}) });
      return;
    }
    let claimed = false;
    if (msg.type === 'ack') {
      for (const id of msg.resultIds) this.retries.delete(id);
      void this.o.outbox
        .remove(msg.resultIds)
        .catch((e: unknown) => this.log({ event: 'outbox_error', op: 'remove', message: (e as Error).message }))
        .then(() => {
          this.log({ event: 'ack', resultIds: msg.resultIds });
          this.emit(msg, { claimed: false });
        });
      return;
    }
    if (msg.type === 'error') {
      this.onError(msg);
      // an error about a result or a job_failed answers that message, not a waiting request; one
      // naming the message it answers (`request`) rejects only a request of that type, so a failed
      // heartbeat or release answers nothing this agent waits on. Older collectors name nothing:
      // the oldest request it is, as before.
      if (msg.resultId === undefined && msg.jobId === undefined) {
        const p = msg.request === undefined ? this.pending[0] : this.pending.find((x) => x.message.type === msg.request);
        if (p) {
          claimed = true;
          p.reject(new CollectorError(msg.code, msg.message, msg.field));
        }
      }
    } else {
      const p = this.pending.find((x) => x.type === msg.type);
      if (p) {
        claimed = true;
        p.resolve(msg);
      }
    }
    this.emit(msg, { claimed });
  }

  private emit(msg: ServerMessage, info: MessageInfo): void {
    for (const l of this.listeners) {
      try {
        l(msg, info);
      } catch (e) {
        this.log({ event: 'listener_error', message: (e as Error).message });
      }
    }
  }

  private onWelcome(ws: WebSocket, msg: Welcome): void {
    if (msg.version !== PROTOCOL_VERSION) {
      this.fail(new CollectorRefusedError('version', this.url, `collector speaks protocol version ${msg.version}`), ws);
      return;
    }
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.state = 'ready';
    this.session = msg;
    this.attempt = 0;
    this.refusedBy.clear();
    this.sentOnSocket = new Set();
    this.log({ event: 'connected', url: this.url, session: msg.session, deviceId: msg.deviceId, heartbeatMs: msg.heartbeatMs });
    // the outbox first, then the requests (see `resending`)
    this.resending = true;
    void this.resend(ws)
      .catch((e: unknown) => this.log({ event: 'outbox_error', op: 'resend', message: (e as Error).message }))
      .then(() => {
        // dropped or closed meanwhile: the next welcome re-sends, and close() rejected the waiters
        if (ws !== this.ws || this.state !== 'ready') return;
        this.resending = false;
        for (const w of this.waiters.splice(0)) w.resolve(msg);
        for (const p of this.pending) {
          if (p.sentOn !== ws && this.send(p.message)) p.sentOn = ws;
        }
      });
  }

  /** Re-sends every outbox entry on this socket (after a welcome). */
  private async resend(ws: WebSocket, only?: string): Promise<void> {
    let entries: ResultMessage[];
    try {
      entries = await this.o.outbox.list();
    } catch (e) {
      this.log({ event: 'outbox_error', op: 'list', message: (e as Error).message });
      return;
    }
    if (only !== undefined) entries = entries.filter((r) => r.resultId === only);
    let sent = 0;
    for (const r of entries) {
      // after a welcome, what submit already sent on this socket is not sent again; a retry
      // (`only`) is sent again on purpose
      if (only === undefined && this.sentOnSocket.has(r.resultId)) {
        sent++;
        continue;
      }
      if (ws !== this.ws || !this.send(r)) break;
      this.sentOnSocket.add(r.resultId);
      sent++;
    }
    if (entries.length > 0) this.log({ event: 'resend', count: sent, pending: entries.length, resultIds: entries.slice(0, sent).map((r) => r.resultId) });
  }

  private onError(msg: ErrorMessage): void {
    this.log({
      event: 'error', code: msg.code, message: msg.message,
      ...(msg.field ? { field: msg.field } : {}), ...(msg.resultId ? { resultId: msg.resultId } : {}), ...(msg.jobId ? { jobId: msg.jobId } : {}),
    });
    const id = msg.resultId;
    if (id === undefined) return;
    if (PERMANENT_RESULT_CODES.has(msg.code)) {
      this.retries.delete(id);
      void this.o.outbox
        .remove([id])
        .then(() => this.log({ event: 'result_dropped', resultId: id, code: msg.code, message: msg.message }))
        .catch((e: unknown) => this.log({ event: 'outbox_error', op: 'remove', message: (e as Error).message }));
    } else {
      // a passing failure (the collector's store unavailable, the job leased to a live agent for
      // now, 'internal'): send that one again on the same socket, backing off further each time
      // it comes back, never sooner than the collector asked
      const attempt = this.retries.get(id) ?? 0;
      this.retries.set(id, attempt + 1);
      const ws = this.ws;
      const delay = (msg.retryAfterMs ?? 100) + backoffDelay(attempt + 1, this.o.backoff);
      this.log({ event: 'result_retry', resultId: id, code: msg.code, attempt: attempt + 1, inMs: delay });
      const t = setTimeout(() => {
        if (ws && ws === this.ws && this.state === 'ready') void this.resend(ws, id);
      }, delay);
      t.unref?.(); // a number in browsers
    }
  }

  private fail(error: CollectorRefusedError, ws: WebSocket): void {
    // Replicas mid-upgrade (another protocol version) or with a token not yet rolled out refuse
    // one by one: the agent tries the others and stops only when each refused it since its last
    // welcome; then the error is the last refusal's (every one is in the log).
    this.refusedBy.add(this.url);
    if (this.refusedBy.size < this.urls.length) {
      this.log({ event: 'refused', url: this.url, code: error.code, message: error.message, refusedBy: this.refusedBy.size, collectors: this.urls.length });
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'refused');
      return;
    }
    this.fatal = error;
    this.log({ event: 'fatal', code: error.code, message: error.message });
    this.stop(error);
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'refused');
  }
}
