// A simulated agent for replica tests and the ingest benchmark: a real ws client that speaks the
// protocol (hello, lease_request, result, heartbeat) and answers every leased job at once with a
// synthetic result, as fast as acks come back. Given several collector URLs it behaves as
// `hwlat agent --collector A,B` does where it matters for exactly-once: when its connection dies
// it moves on to the next URL, says hello again under the same agent id and pass, and re-sends
// every result not yet acknowledged, with the same result id (the store deduplicates by it).
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, type DeviceProfile } from '../../protocol/index.ts';

export interface SimAgentOptions {
  /** collector ws URLs; the agent starts at the first and moves on to the next when one dies */
  urls: readonly string[];
  token: string;
  deviceId: string;
  /** jobs asked for per lease (1–256) */
  batch: number;
  /** checked before each lease request: true ends the agent once its outbox is empty */
  stop: () => boolean;
  /** send heartbeats for the leases it holds this often (default: never; collectors with a long lease TTL) */
  heartbeatMs?: number;
  /** wait before connecting to the next URL after a connection died (default 100 ms) */
  reconnectMs?: number;
  /** called each time the agent is welcomed by a collector (its ws URL) */
  onConnect?: (url: string) => void;
  /** the first lease waits for this (a benchmark times ingest, not devices registering) */
  start?: Promise<void>;
  /** how long "measuring" a lease takes before its results go out (default 0: at once) */
  measureMs?: number;
}

export interface SimAgentReport {
  deviceId: string;
  agentId: string;
  /** results sent for the first time */
  sent: number;
  /** result id → the job it answered, for every result acknowledged */
  acked: Map<string, string>;
  /** ms from a result's first send to its ack (re-sends after a failover included) */
  ackLatencyMs: number[];
  /** error replies that are final for their result (not store_unavailable or leased_elsewhere) */
  errors: Array<{ code: string; message: string }>;
  /** how often the connection in use died and the agent moved on */
  failovers: number;
  /** results sent again after a failover */
  resent: number;
}

const STATS = { median: 1.5, mean: 1.6, p10: 1.4, p90: 1.8, stddev: 0.1, min: 1.3, cv: 0.06, repeats: 20, outliers: 1 };

class ConnectionLost extends Error {}

interface Outgoing {
  jobId: string;
  leaseId: string;
  firstSentAt: number;
  frame: string;
}

/**
 * Runs one simulated agent until `stop()` and its outbox is empty; resolves with what it saw.
 *
 * @example
 * const report = await runSimAgent({ urls: [a.wsUrl, b.wsUrl], token, deviceId: 'dev-1', batch: 16, stop: () => Date.now() > end });
 */
export async function runSimAgent(o: SimAgentOptions): Promise<SimAgentReport> {
  const device: DeviceProfile = {
    id: o.deviceId,
    name: `sim ${o.deviceId}`,
    hardware: { cpu: 'Simulated', cores: 4, memoryBytes: 2 ** 32, os: 'sim', arch: 'x64', gpus: [] },
    runtime: { backend: 'sim', provider: 'cpu', version: '0', threads: 1 },
  };
  const agentId = `agent-${randomUUID()}`;
  const pass = { id: `pass-${randomUUID()}`, startedAt: new Date().toISOString(), calibrationKey: 'sim' };
  const report: SimAgentReport = { deviceId: o.deviceId, agentId, sent: 0, acked: new Map(), ackLatencyMs: [], errors: [], failovers: 0, resent: 0 };
  // results sent and not yet acknowledged: what a real agent keeps in its outbox on disk
  const outbox = new Map<string, Outgoing>();
  let urlIndex = 0;

  for (;;) {
    const url = o.urls[urlIndex % o.urls.length] as string;
    try {
      await session(url);
      return report;
    } catch (e) {
      if (!(e instanceof ConnectionLost)) throw e;
      report.failovers++;
      urlIndex++;
      await sleep(o.reconnectMs ?? 100);
    }
  }

  /** One connection's life: resolves when the agent is done, throws ConnectionLost when it dies. */
  async function session(url: string): Promise<void> {
    const ws = new WebSocket(url);
    // a ConnectionLost moves the agent on to the next collector; any other error ends it
    let lost: Error | null = null;
    const waiters = new Set<{ reject: (e: Error) => void }>();
    let onLease: ((m: any) => void) | null = null;
    let onWelcome: (() => void) | null = null;
    let onDrained: (() => void) | null = null;
    const retryTimers = new Set<NodeJS.Timeout>();
    const wait = <T>(register: (resolve: (v: T) => void) => void): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        if (lost) return reject(lost);
        const w = { reject };
        waiters.add(w);
        register((v) => (waiters.delete(w), resolve(v)));
      });
    const die = (why: string, fatal = false) => {
      if (lost) return;
      lost = fatal ? new Error(`${url}: ${why}`) : new ConnectionLost(`${url}: ${why}`);
      for (const t of retryTimers) clearTimeout(t);
      for (const w of waiters) w.reject(lost);
      waiters.clear();
    };
    const send = (frame: string) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(frame);
    };
    const resendLater = (id: string, ms: number) => {
      const t = setTimeout(() => {
        retryTimers.delete(t);
        const out = outbox.get(id);
        if (out) send(out.frame);
      }, ms);
      retryTimers.add(t);
    };
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.type === 'welcome') onWelcome?.();
      else if (m.type === 'lease') onLease?.(m);
      else if (m.type === 'ack') {
        const now = performance.now();
        for (const id of m.resultIds as string[]) {
          const out = outbox.get(id);
          if (!out) continue;
          outbox.delete(id);
          report.acked.set(id, out.jobId);
          report.ackLatencyMs.push(now - out.firstSentAt);
        }
        if (outbox.size === 0) onDrained?.();
      } else if (m.type === 'error') {
        const passing = m.code === 'store_unavailable' || m.code === 'leased_elsewhere';
        if (typeof m.resultId === 'string' && outbox.has(m.resultId)) {
          if (passing) resendLater(m.resultId, m.retryAfterMs ?? 200);
          else {
            outbox.delete(m.resultId);
            report.errors.push({ code: m.code, message: m.message });
            if (outbox.size === 0) onDrained?.();
          }
        } else if (m.request === 'lease_request' && passing) {
          onLease?.({ jobs: [], retryAfterMs: m.retryAfterMs ?? 200 });
        } else if (m.request === 'hello' && passing) {
          // the collector could not record the hello (it closes the connection): as hwlat agent
          // does, move on and say it again
          die(`hello: ${m.code}`);
        } else if (m.request !== 'heartbeat') {
          // a refused hello or request: the agent is wrong, and another collector would say the same
          report.errors.push({ code: m.code, message: m.message });
          die(`${m.request ?? 'request'} refused: ${m.code}: ${m.message}`, true);
          ws.close();
        }
      }
    });
    ws.on('close', () => die('closed'));
    ws.on('error', (e) => die(e.message));
    let heartbeat: NodeJS.Timeout | undefined;
    try {
      await wait<void>((r) => {
        ws.once('open', () => r());
      });
      const welcomed = wait<void>((r) => (onWelcome = r));
      send(JSON.stringify({ type: 'hello', version: PROTOCOL_VERSION, token: o.token, agentId, device, pass }));
      await welcomed;
      o.onConnect?.(url);
      if (o.heartbeatMs !== undefined) {
        heartbeat = setInterval(() => {
          const leaseIds = [...new Set([...outbox.values()].map((x) => x.leaseId))];
          if (leaseIds.length > 0) send(JSON.stringify({ type: 'heartbeat', leaseIds }));
        }, o.heartbeatMs);
      }
      // what the dead collector never acknowledged goes to this one, under the same ids
      for (const out of outbox.values()) {
        report.resent++;
        send(out.frame);
      }
      if (o.start) await Promise.race([o.start, wait<void>(() => {})]);
      for (;;) {
        if (outbox.size > 0) await wait<void>((r) => (onDrained = r));
        if (o.stop()) break;
        const lease = await wait<any>((r) => {
          onLease = r;
          send(JSON.stringify({ type: 'lease_request', max: o.batch }));
        });
        if (lease.jobs.length === 0) {
          await sleep(Math.min(lease.retryAfterMs ?? 200, 500));
          continue;
        }
        // the connection may die meanwhile: the results then go into the outbox unsent, and out
        // to the next collector
        if (o.measureMs) await sleep(o.measureMs);
        const now = performance.now();
        for (const job of lease.jobs as Array<{ id: string }>) {
          const resultId = randomUUID();
          const frame = JSON.stringify({ type: 'result', resultId, jobId: job.id, passId: pass.id, stats: STATS, batch: 1, warmup: 3, wallMs: 40, calibrationMs: 1, createdAt: new Date().toISOString() });
          outbox.set(resultId, { jobId: job.id, leaseId: lease.leaseId, firstSentAt: now, frame });
          report.sent++;
          send(frame);
        }
      }
      ws.close();
    } finally {
      clearInterval(heartbeat);
      for (const t of retryTimers) clearTimeout(t);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
