// A raw ws agent for collector tests: it speaks the protocol frame by frame (what a broken or
// hostile agent would send), against a real collector on 127.0.0.1.
import WebSocket, { type ClientOptions } from 'ws';
import { PROTOCOL_VERSION, type DeviceProfile } from '../../protocol/index.ts';

/** A collector token long enough for startCollector (>= 16 characters). */
export const TEST_TOKEN = 'test-token-0123456789';

export function testDevice(id: string, name = `test device ${id}`): DeviceProfile {
  return {
    id,
    name,
    hardware: { cpu: 'Test CPU', cores: 2, memoryBytes: 2 ** 30, os: 'TestOS', arch: 'x64', gpus: [] },
    runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
  };
}

export const STARTED = new Date().toISOString();

export function helloFor(o: { deviceId: string; agentId: string; passId: string; token?: string; device?: DeviceProfile }) {
  return {
    type: 'hello', version: PROTOCOL_VERSION, token: o.token ?? TEST_TOKEN, agentId: o.agentId, device: o.device ?? testDevice(o.deviceId),
    pass: { id: o.passId, startedAt: STARTED, calibrationKey: 'calib' },
  };
}

export const GOOD_STATS = { median: 1, mean: 1, p10: 0.9, p90: 1.1, stddev: 0.1, min: 0.9, cv: 0.1, repeats: 10, outliers: 0 };

export function resultFor(jobId: string, resultId: string, passId: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'result', resultId, jobId, passId, stats: GOOD_STATS, batch: 1, warmup: 1, wallMs: 12, calibrationMs: 1,
    createdAt: new Date().toISOString(), ...extra,
  };
}

export interface RawAgent {
  ws: WebSocket;
  /** the first message matching `pred` (waits up to `timeoutMs`), removed from the inbox */
  next(pred?: (m: any) => boolean, timeoutMs?: number): Promise<any>;
  send(msg: unknown): void;
  /** resolves with the close code */
  closed: Promise<number>;
  inbox: any[];
}

/** Opens a ws connection that collects every server message; rejects when the upgrade is refused. */
export async function rawAgent(wsUrl: string, options: ClientOptions = {}): Promise<RawAgent> {
  const ws = new WebSocket(wsUrl, options);
  const inbox: any[] = [];
  let wake: (() => void) | null = null;
  ws.on('message', (d) => {
    inbox.push(JSON.parse(d.toString()));
    wake?.();
  });
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, headers: res.headers })));
  });
  ws.on('error', () => {});
  const next = async (pred: (m: any) => boolean = () => true, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = inbox.findIndex(pred);
      if (i >= 0) return inbox.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms; inbox ${JSON.stringify(inbox)}`);
      await new Promise<void>((r) => ((wake = r), setTimeout(r, 50)));
    }
  };
  return { ws, next, send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)), closed, inbox };
}

/** POST /api/campaigns with the token; returns the campaign. */
export async function createCampaign(url: string, body: Record<string, unknown>, token = TEST_TOKEN): Promise<{ id: string; tasks: number }> {
  const res = await fetch(`${url}/api/campaigns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  if (res.status !== 201) throw new Error(`campaign not created: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` until true or throws after `timeoutMs`. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
