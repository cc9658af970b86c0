import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';

/** How many agent connections the collector keeps open (see CollectorOptions). */
export interface ConnectionLimits {
  /** all addresses together */
  maxConnections: number;
  /** from one remote address (a NAT or a reverse proxy counts as one: raise it there) */
  maxConnectionsPerAddress: number;
}

/**
 * Counts open ws connections, in all and per remote address, from the upgrade request until the
 * socket closes (connections that never say hello included): past either cap a new one is refused
 * with a 503 instead of taking a file descriptor the HTTP API needs.
 */
export class ConnectionLimiter {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: ConnectionLimits) {
    for (const [name, v] of Object.entries(limits)) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`'${name}' must be an integer >= 1, got ${v}`);
    }
  }

  /** Takes a slot for a connection from `address`: null when granted, else why it is refused. */
  admit(address: string): string | null {
    if (this.total >= this.limits.maxConnections) return `the collector holds its limit of ${this.limits.maxConnections} agent connections`;
    const mine = this.byAddress.get(address) ?? 0;
    if (mine >= this.limits.maxConnectionsPerAddress) return `${address} holds its limit of ${this.limits.maxConnectionsPerAddress} agent connections`;
    this.total++;
    this.byAddress.set(address, mine + 1);
    return null;
  }

  release(address: string): void {
    const mine = this.byAddress.get(address) ?? 0;
    if (mine <= 0) return;
    this.total--;
    if (mine === 1) this.byAddress.delete(address);
    else this.byAddress.set(address, mine - 1);
  }

  /** Connections counted now. */
  get open(): number {
    return this.total;
  }
}

/** Answers an upgrade request with an HTTP error and closes the socket (no WebSocket is made). */
export function refuseUpgrade(socket: Duplex, status: 403 | 404 | 429 | 503, reason: string, retryAfterS?: number): void {
  const text = { 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status];
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `${retryAfterS !== undefined ? `Retry-After: ${retryAfterS}\r\n` : ''}\r\n${body}`,
  );
}

/**
 * Liveness: every `pingMs` each connection is pinged, and one that answered nothing (no pong, no
 * message) since the previous ping is terminated, so a peer that vanished (a phone gone to sleep,
 * a cut cable) frees its slot and its leases within two periods instead of never.
 */
export function startLiveness(wss: WebSocketServer, pingMs: number, onDead: (ws: WebSocket) => void): { stop(): void } {
  const heard = new WeakSet<WebSocket>();
  const mark = (ws: WebSocket) => heard.add(ws);
  wss.on('connection', (ws: WebSocket) => {
    heard.add(ws);
    ws.on('pong', () => mark(ws));
    ws.on('message', () => mark(ws));
  });
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (!heard.has(ws)) {
        onDead(ws);
        ws.terminate();
        continue;
      }
      heard.delete(ws);
      ws.ping();
    }
  }, pingMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
