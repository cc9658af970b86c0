import { isIP } from 'node:net';

/**
 * DNS rebinding protection. A page on evil.example whose name is made to resolve to the
 * collector's address reaches it with `Host: evil.example`, and the browser lets that page read
 * the answers (same origin for the browser). Requests must therefore name the collector by an IP
 * address, `localhost`, or a name the operator allowed (`hwlat serve --allowed-host NAME`, e.g.
 * the public name behind a TLS reverse proxy): those are names an attacker cannot point elsewhere.
 */
export class HostCheck {
  private readonly allowed: ReadonlySet<string>;

  constructor(allowedHosts: readonly string[] = []) {
    this.allowed = new Set(allowedHosts.map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0));
  }

  /** The host name of a Host header or an origin's authority, without port or brackets, lowercased. */
  static hostname(authority: string): string {
    const a = authority.trim().toLowerCase();
    if (a.startsWith('[')) return a.slice(1, a.indexOf(']') > 0 ? a.indexOf(']') : undefined);
    const colon = a.lastIndexOf(':');
    return colon >= 0 && a.indexOf(':') === colon ? a.slice(0, colon) : a;
  }

  /** Whether a request with this Host header may be answered (a missing one is HTTP/1.0: refused). */
  hostAllowed(host: string | undefined): boolean {
    if (!host) return false;
    const name = HostCheck.hostname(host);
    return isIP(name) !== 0 || name === 'localhost' || this.allowed.has('*') || this.allowed.has(name);
  }

  /**
   * Whether a ws upgrade with this Origin may proceed: none (agents outside a browser send none),
   * the collector's own origin (the /agent page), or an allowed host's. A page elsewhere cannot
   * open a socket to the collector in its visitors' browsers.
   */
  originAllowed(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (host !== undefined && url.host.toLowerCase() === host.trim().toLowerCase()) return true;
    return this.allowed.has('*') || this.allowed.has(url.hostname.toLowerCase().replace(/^\[|\]$/g, ''));
  }
}
