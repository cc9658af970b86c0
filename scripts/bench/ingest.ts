// Collector ingest benchmark: N concurrent simulated agents (real ws clients, one device each)
// lease jobs and send synthetic results to a real `hwlat serve` process for a bounded time.
// Prints results/s ingested, ack latency percentiles and the loss count (acked but not stored).
//
//   npx tsx scripts/bench/ingest.ts [--agents 50] [--seconds 20] [--tasks 2000] [--batch 16] [--json]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { quantile } from 'simple-statistics';
import WebSocket from 'ws';
import { openStore } from '../../collector/index.ts';
import { PROTOCOL_VERSION, type DeviceProfile } from '../../protocol/index.ts';
import { getJson, startServe } from '../../tests/helpers/procs.ts';

const { values: args } = parseArgs({
  options: {
    agents: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    tasks: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
  },
});
const AGENTS = Number(args.agents);
const SECONDS = Number(args.seconds);
const BATCH = Number(args.batch);
const TOKEN = 'bench-token-0123456789';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-ingest-'));
const db = join(dir, 'ingest.sqlite');
const serve = await startServe({ db, token: TOKEN, leaseTtlMs: 60_000 });
const created = await getJson(`${serve.url}/api/campaigns`, {
  method: 'POST',
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify({ space: 'nasbench201', networks: Number(args.tasks), devices: 'all' }),
});
if (created.status !== 201) throw new Error(`campaign: ${JSON.stringify(created.body)}`);

const stats = { median: 1.5, mean: 1.6, p10: 1.4, p90: 1.8, stddev: 0.1, min: 1.3, cv: 0.06, repeats: 20, outliers: 1 };
const ackLatency: number[] = [];
const acked = new Set<string>();
let sent = 0;
let errors = 0;
const deadline = Date.now() + SECONDS * 1000;

async function simulatedAgent(i: number): Promise<void> {
  const hex = i.toString(16).padStart(12, '0');
  const device: DeviceProfile = {
    id: `dev-${hex}`,
    name: `sim-${i}`,
    hardware: { cpu: 'Simulated', cores: 4, memoryBytes: 2 ** 32, os: 'sim', arch: 'x64', gpus: [] },
    runtime: { backend: 'sim', provider: 'cpu', version: '0', threads: 1 },
  };
  const passId = `pass-${randomUUID()}`;
  const ws = new WebSocket(serve.wsUrl);
  const pending = new Map<string, number>();
  let onLease: ((m: any) => void) | null = null;
  let drained: (() => void) | null = null;
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'lease') onLease?.(m);
    else if (m.type === 'ack') {
      for (const id of m.resultIds as string[]) {
        const t0 = pending.get(id);
        if (t0 !== undefined) ackLatency.push(performance.now() - t0);
        pending.delete(id);
        acked.add(id);
      }
      if (pending.size === 0) drained?.();
    } else if (m.type === 'error') errors++;
  });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const welcome = new Promise<void>((r) => ws.once('message', () => r()));
  ws.send(JSON.stringify({ type: 'hello', version: PROTOCOL_VERSION, token: TOKEN, agentId: `agent-${randomUUID()}`, device, pass: { id: passId, startedAt: new Date().toISOString(), calibrationKey: 'sim' } }));
  await welcome;
  while (Date.now() < deadline) {
    const lease = await new Promise<any>((r) => {
      onLease = r;
      ws.send(JSON.stringify({ type: 'lease_request', max: BATCH }));
    });
    if (lease.jobs.length === 0) break;
    const done = new Promise<void>((r) => (drained = r));
    for (const job of lease.jobs) {
      const resultId = randomUUID();
      pending.set(resultId, performance.now());
      sent++;
      ws.send(JSON.stringify({ type: 'result', resultId, jobId: job.id, passId, stats, batch: 1, warmup: 3, wallMs: 40, calibrationMs: 1, createdAt: new Date().toISOString() }));
    }
    await done;
  }
  ws.close();
}

const t0 = performance.now();
await Promise.all(Array.from({ length: AGENTS }, (_, i) => simulatedAgent(i + 1)));
const seconds = (performance.now() - t0) / 1000;
serve.proc.kill('SIGTERM');
await serve.proc.exited;

const store = openStore({ path: db });
const storedIds = new Set((await store.listMeasurements({})).map((m) => m.id));
await store.close();
rmSync(dir, { recursive: true, force: true });
const lost = [...acked].filter((id) => !storedIds.has(id)).length;

const result = {
  agents: AGENTS,
  seconds: Number(seconds.toFixed(1)),
  sent,
  acked: acked.size,
  stored: storedIds.size,
  resultsPerSecond: Math.round(acked.size / seconds),
  ackLatencyMs: { p50: quantile(ackLatency, 0.5), p99: quantile(ackLatency, 0.99), max: Math.max(...ackLatency) },
  errors,
  lost,
};
if (args.json) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`${AGENTS} simulated agents for ${result.seconds} s against one collector process (batch ${BATCH} results per lease)`);
  console.log(`results sent ${sent}, acked ${acked.size}, stored ${storedIds.size}, error replies ${errors}`);
  console.log(`ingest ${result.resultsPerSecond} results/s; ack latency p50 ${result.ackLatencyMs.p50.toFixed(1)} ms, p99 ${result.ackLatencyMs.p99.toFixed(1)} ms, max ${result.ackLatencyMs.max.toFixed(1)} ms`);
  console.log(`lost (acked but not stored): ${lost}`);
}
if (lost > 0) process.exitCode = 1;
