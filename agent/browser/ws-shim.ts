/**
 * The part of the `ws` package's client API that agent/transport/ws-client.ts uses, over the
 * browser's own WebSocket. The page bundle maps the import `ws` to this file (esbuild `alias`, see
 * collector/server/agent-bundle.ts), so the browser agent runs the very same CollectorConnection:
 * hello/welcome, outbox re-send, requests, reconnect with backoff. Only the socket differs.
 *
 * Browsers cannot send ws pings: the browser answers the server's pings itself and notices a dead
 * TCP connection on its own, so ping() answers with a local 'pong' while the socket is open; a
 * silent collector is still caught by the request timeouts of the agent loop.
 */

type Listener = (...args: any[]) => void;

export default class WebSocketShim {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  private readonly socket: WebSocket;
  private readonly listeners = new Map<string, Array<{ fn: Listener; once: boolean }>>();

  constructor(url: string, _options?: { handshakeTimeout?: number }) {
    this.socket = new WebSocket(url);
    this.socket.addEventListener('open', () => this.emit('open'));
    this.socket.addEventListener('message', (ev: MessageEvent) => {
      // text frames arrive as strings; a binary frame is flagged so the client can refuse it
      if (typeof ev.data === 'string') this.emit('message', ev.data, false);
      else this.emit('message', ev.data, true);
    });
    this.socket.addEventListener('error', () => this.emit('error', new Error(`websocket error on ${url}`)));
    this.socket.addEventListener('close', (ev: CloseEvent) => this.emit('close', ev.code, ev.reason));
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  on(event: string, fn: Listener): this {
    this.add(event, fn, false);
    return this;
  }

  once(event: string, fn: Listener): this {
    this.add(event, fn, true);
    return this;
  }

  send(text: string): void {
    this.socket.send(text);
  }

  ping(): void {
    if (this.socket.readyState === WebSocketShim.OPEN) queueMicrotask(() => this.emit('pong'));
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  /** Browsers have no abrupt close: a normal close, and 'close' is reported at once so reconnecting starts now. */
  terminate(): void {
    const wasOpen = this.socket.readyState !== WebSocketShim.CLOSED;
    try {
      this.socket.close();
    } catch {
      // already closing
    }
    if (wasOpen) {
      this.listeners.delete('message');
      // asynchronously, as ws does; the socket's own later 'close' finds no listener
      const closers = this.listeners.get('close') ?? [];
      this.listeners.delete('close');
      queueMicrotask(() => {
        for (const l of closers) l.fn(1006, 'terminated');
      });
    }
  }

  private add(event: string, fn: Listener, once: boolean): void {
    const list = this.listeners.get(event) ?? [];
    list.push({ fn, once });
    this.listeners.set(event, list);
  }

  private emit(event: string, ...args: unknown[]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    this.listeners.set(event, list.filter((l) => !l.once));
    for (const l of list) l.fn(...args);
  }
}
