import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { describeZodError } from '../../protocol/index.ts';
import type { Store } from '../store/index.ts';

/** An HTTP error with its status; the message is sent to the client as `{error, field?}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    /** response headers that go with it (e.g. Retry-After on a 429) */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The 404 for a device the store does not hold, listing (the first 20 of) the known ones. */
export async function unknownDevice(store: Store, deviceId: string): Promise<HttpError> {
  const known = (await store.listDevices()).map((d) => d.id);
  const shown = known.length > 20 ? `${known.slice(0, 20).join(', ')}, … (${known.length} in all)` : known.join(', ') || '(none)';
  return new HttpError(404, `unknown device '${deviceId}'; known: ${shown}`);
}

export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads and parses a JSON body: 413 above `maxBytes`, 400 for an empty or malformed one. */
export async function readJson(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `request body exceeds ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'request body is empty; send JSON');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Validates with zod, turning the first issue into a 400 naming the field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) {
    const { field, message } = describeZodError(r.error, '(body)');
    throw new HttpError(400, message, field || undefined);
  }
  return r.data;
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export type Handler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>, url: URL) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

/** A percent-encoded path segment, decoded; malformed encoding (`%ff`, `%E0%A4%A`, `%`) is a 400. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in the path segment '${segment}'`);
  }
}

/** A small method + path router: `/api/campaigns/:id` style patterns. */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const pattern = new RegExp(`^${path.replace(/:([a-zA-Z]+)/g, (_, n: string) => (names.push(n), '([^/]+)'))}$`);
    this.routes.push({ method, pattern, names, handler });
    return this;
  }

  /** Finds the route; 404 for an unknown path, 405 for a known path with another method. */
  match(method: string, pathname: string): { handler: Handler; params: Record<string, string> } {
    let pathKnown = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(pathname);
      if (!m) continue;
      pathKnown = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodePathSegment(m[i + 1] as string)));
      return { handler: r.handler, params };
    }
    throw pathKnown ? new HttpError(405, `method ${method} not allowed on ${pathname}`) : new HttpError(404, `no route ${method} ${pathname}`);
  }
}
