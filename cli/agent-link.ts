import { networkInterfaces } from 'node:os';
import QRCode from 'qrcode';

/**
 * The browser agent's link: `http://<host>:<port>/agent?token=…`. A collector listening on every
 * address (0.0.0.0 / ::) is reached from a phone through this machine's LAN address, not 127.0.0.1,
 * so the first non-internal IPv4 address is used there.
 *
 * @example
 * agentPageLink({ listenHost: '0.0.0.0', port: 8700, token: 's3cret' }); // 'http://192.168.1.20:8700/agent?token=s3cret'
 */
export function agentPageLink(o: { listenHost: string; port: number; token: string }): string {
  let host = o.listenHost;
  if (host === '0.0.0.0' || host === '::' || host === '') {
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal);
    host = lan?.address ?? '127.0.0.1';
  }
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${shown}:${o.port}/agent?token=${encodeURIComponent(o.token)}`;
}

/** The link as a QR code of terminal characters, for a phone's camera. */
export async function terminalQr(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'terminal', small: true });
}
