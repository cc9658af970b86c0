// Prediction serving benchmark: profiles a space quickly into a temp database with the real CLI
// (`hwlat profile --ops --networks N --repeats 3 --min-time 0`), starts `hwlat serve` on it as a
// separate process, warms the predictor up with one request (that request trains it), then
// load-tests `POST /api/predict`, a different sampled architecture in every request, two ways per
// scenario, each load phase from a fresh child process (a load generator that has just run
// another phase carries its heap and timers into the next one: measured here, it inflated the
// paced p99 from ~2 ms to ~11 ms):
//
// - saturation: autocannon, --connections keep-alive connections each sending its next request as
//   soon as the last one is answered (closed loop): the most requests/s the server gives. Its
//   latency is mostly queueing (Little's law: connections / throughput).
// - rate: requests issued at a fixed --rate per second (open loop, paced on a 1 ms timer) over at
//   most --connections keep-alive sockets, after one uncounted second at the same rate (sockets,
//   JIT): the latency a client sees at that load. The target is p99 < 10 ms at 2,000 single
//   predictions/s.
//
// Prints requests/s, latency percentiles (every response's own time, µs resolution), errors and
// the server's CPU time per request (Linux /proc).
//
// --db sqlite (default): a temp SQLite file; --db postgres: a throwaway PostgreSQL cluster
// (scripts/bench/bench-db.ts); --db postgres://…: that database. --replicas N: N `hwlat serve`
// processes on the database, requests spread round-robin over them (each load phase splits its
// connections evenly; every replica trains its own predictor on its first request).
//
//   npx tsx scripts/bench/predict-http.ts [--space nasbench201] [--networks 20] [--seconds 10]
//     [--connections 32] [--rate 2000] [--scenarios single,lean,batch] [--batch 1000]
//     [--preload] [--kind lut-sum|composite|encoding-mlp] [--db sqlite|postgres|URL] [--replicas 1] [--json]
//
// Scenarios: single = one arch with its breakdown (the default response); lean = one arch with
// `breakdown: false`; batch = `archs` of --batch architectures per request (saturation only).
// --preload trains with `hwlat train` (all kinds, the encoding MLP too) and serves that directory
// with `hwlat serve --model DIR` instead of letting the server train on the first request;
// --kind asks every request for that predictor kind.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';
import { quantile } from 'simple-statistics';
import { getSpace, sampleArchs } from '../../ops-library/index.ts';
import { spawnHwlat, type HwlatProcess } from '../../tests/helpers/procs.ts';
import { benchDatabase, checkDbArgument } from './bench-db.ts';

const { values: args } = parseArgs({
  options: {
    space: { type: 'string', default: 'nasbench201' },
    networks: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    rate: { type: 'string', default: '2000' },
    scenarios: { type: 'string', default: 'single' },
    batch: { type: 'string', default: '1000' },
    preload: { type: 'boolean', default: false },
    kind: { type: 'string' },
    db: { type: 'string', default: 'sqlite' },
    replicas: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    // internal: a load phase run as a child process
    worker: { type: 'string' },
    url: { type: 'string' },
    device: { type: 'string' },
  },
});
const SPACE = getSpace(args.space);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const RATE = Number(args.rate);
const BATCH = Number(args.batch);
const SCENARIOS = args.scenarios.split(',').map((s) => s.trim()).filter(Boolean);
for (const s of SCENARIOS) if (!['single', 'lean', 'batch'].includes(s)) throw new RangeError(`unknown scenario '${s}'; known: single, lean, batch`);
const REPLICAS = Number(args.replicas);
if (!Number.isInteger(REPLICAS) || REPLICAS < 1) throw new RangeError(`--replicas must be a positive integer, got '${args.replicas}'`);
checkDbArgument(args.db);
const TOKEN = 'bench-token-0123456789';
const BIN = fileURLToPath(new URL('../../bin/hwlat.js', import.meta.url));
const POOL_SEED = 12345;

type Mode = 'saturation' | 'rate' | 'sequential';

/** What one load phase measured (printed by the worker as one JSON line). */
interface LoadOutcome {
  mode: Mode;
  seconds: number;
  requests: number;
  ok: number;
  errors: number;
  non2xx: number;
  bytes: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

interface ScenarioResult extends Omit<LoadOutcome, 'ok' | 'bytes'> {
  scenario: string;
  offeredRate: number | null;
  connections: number;
  archsPerRequest: number;
  requestsPerSec: number;
  predictionsPerSec: number;
  responseBytes: number;
  serverCpuMsPerRequest: number | null;
}

function requestBodies(scenario: string, deviceId: string): string[] {
  const pool = sampleArchs(SPACE, { count: 1000, seed: POOL_SEED });
  const bodies: string[] = [];
  for (let i = 0; i < 500; i++) {
    const body: Record<string, unknown> =
      scenario === 'batch'
        ? { device: deviceId, space: SPACE.name, archs: Array.from({ length: BATCH }, (_, j) => pool[(i * 7 + j) % pool.length] as string) }
        : { device: deviceId, space: SPACE.name, arch: pool[i] as string, ...(scenario === 'lean' ? { breakdown: false } : {}) };
    if (args.kind) body.kind = args.kind;
    bodies.push(JSON.stringify(body));
  }
  return bodies;
}

function outcome(mode: Mode, latencies: number[], o: Omit<LoadOutcome, 'mode' | 'latencyMs' | 'ok'>): LoadOutcome {
  const sorted = latencies.sort((a, b) => a - b);
  const q = (p: number) => (sorted.length > 0 ? quantile(sorted, p) : NaN);
  return { mode, ...o, ok: sorted.length, latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted.at(-1) ?? NaN } };
}

function post(agent: Agent, target: URL, body: string, onDone: (status: number | null, bytes: number) => void): void {
  let bytes = 0;
  const req = request(
    { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
    (res) => {
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => onDone(res.statusCode ?? null, bytes));
    },
  );
  req.on('error', () => onDone(null, 0));
  req.end(body);
}

/** Closed loop: autocannon with CONNECTIONS connections for SECONDS, split evenly over the replicas. */
async function saturate(urls: readonly string[], bodies: readonly string[]): Promise<LoadOutcome> {
  let next = 0;
  const latencies: number[] = [];
  const runs = await Promise.all(urls.map((url, i) => saturateOne(url, bodies, Math.floor(CONNECTIONS / urls.length) + (i < CONNECTIONS % urls.length ? 1 : 0), () => next++, latencies)));
  return outcome('saturation', latencies, {
    seconds: Math.max(...runs.map((r) => r.duration)),
    requests: runs.reduce((s, r) => s + r.requests.total, 0),
    errors: runs.reduce((s, r) => s + r.errors + r.timeouts, 0),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    bytes: runs.reduce((s, r) => s + r.throughput.total, 0),
  });
}

async function saturateOne(url: string, bodies: readonly string[], connections: number, nextIndex: () => number, latencies: number[]): Promise<autocannon.Result> {
  return new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}/api/predict`,
        connections,
        duration: SECONDS,
        requests: [
          {
            method: 'POST',
            path: '/api/predict',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: bodies[nextIndex() % bodies.length] as string }),
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    // every response's own time (µs resolution; autocannon's histogram keeps whole milliseconds)
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status === 200) latencies.push(ms);
    });
  });
}

/**
 * Open loop: RATE requests per second for SECONDS (after one uncounted second) over at most
 * CONNECTIONS sockets in all, the requests taking the replicas in turn.
 */
async function paced(urls: readonly string[], bodies: readonly string[]): Promise<LoadOutcome> {
  const targets = urls.map((url) => new URL(`${url}/api/predict`));
  // maxSockets is per host:port, so each replica gets its share of the connections
  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(1, Math.floor(CONNECTIONS / urls.length)) });
  const interval = 1000 / RATE;
  const warmup = Math.round(RATE);
  const total = warmup + Math.round(RATE * SECONDS);
  const latencies: number[] = [];
  let issued = 0;
  let finished = 0;
  let errors = 0;
  let non2xx = 0;
  let bytes = 0;
  let countedFrom = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const fire = (i: number) => {
      // timed from when it is issued: waiting for a free socket counts, the pacing timer's lag does not
      const sent = performance.now();
      if (i === warmup) countedFrom = sent;
      post(agent, targets[i % targets.length] as URL, bodies[i % bodies.length] as string, (status, n) => {
        if (status === null) errors++;
        else if (status !== 200) non2xx++;
        else if (i >= warmup) {
          latencies.push(performance.now() - sent);
          bytes += n;
        }
        if (++finished === total) resolve();
      });
    };
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
      while (issued < due) fire(issued++);
      if (issued < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  return outcome('rate', latencies, { seconds: (performance.now() - countedFrom) / 1000, requests: total - warmup, errors, non2xx, bytes });
}

/** Unloaded latency: `n` requests one after the other, over one keep-alive connection per replica, taking them in turn. */
async function sequential(urls: readonly string[], bodies: readonly string[], n: number): Promise<LoadOutcome> {
  const targets = urls.map((url) => new URL(`${url}/api/predict`));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await new Promise<void>((resolve) =>
      post(agent, targets[i % targets.length] as URL, bodies[i % bodies.length] as string, (status, b) => {
        if (status === null) errors++;
        else if (status !== 200) non2xx++;
        else {
          latencies.push(performance.now() - t);
          bytes += b;
        }
        resolve();
      }),
    );
  }
  agent.destroy();
  return outcome('sequential', latencies, { seconds: (performance.now() - t0) / 1000, requests: n, errors, non2xx, bytes });
}

/** utime + stime of a process in ms (Linux /proc), or null elsewhere. */
function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Runs one load phase in a fresh child process (this script with --worker) and returns what it measured. */
async function inChild(mode: Mode, scenario: string, url: string, deviceId: string): Promise<LoadOutcome> {
  const forwarded = ['--space', SPACE.name, '--seconds', String(SECONDS), '--connections', String(CONNECTIONS), '--rate', String(RATE), '--batch', String(BATCH), '--scenarios', scenario];
  if (args.kind) forwarded.push('--kind', args.kind);
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--worker', mode, '--url', url, '--device', deviceId, ...forwarded], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`load worker (${mode} ${scenario}) exited ${code}: ${stdout.slice(-500)}`);
  return JSON.parse(line) as LoadOutcome;
}

if (args.worker) {
  const url = (args.url as string).split(',');
  const bodies = requestBodies(SCENARIOS[0] as string, args.device as string);
  const mode = args.worker as Mode;
  const result = mode === 'saturation' ? await saturate(url, bodies) : mode === 'rate' ? await paced(url, bodies) : await sequential(url, bodies, 500);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  await main();
}

async function main(): Promise<void> {
  const log = (line: string) => {
    if (!args.json) process.stderr.write(`${line}\n`);
  };
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-predict-http-'));
  const serves: HwlatProcess[] = [];
  try {
    const { db, kind: dbKind } = await benchDatabase({ db: args.db, dir, durable: true, sqliteName: 'lat.sqlite' });
    log(`profiling ${SPACE.name}: every layer key and ${args.networks} networks (3 repeats each) …`);
    const t0 = performance.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, 'profile', '--space', SPACE.name, '--ops', '--networks', args.networks, '--repeats', '3', '--min-time', '0', '--warmup', '0', '--db', db, '--json'],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const profile = JSON.parse(stdout) as { device: { id: string }; stored: number; ops: number; networks: number };
    const profileSeconds = (performance.now() - t0) / 1000;
    const deviceId = profile.device.id;

    const serveArgs = ['serve', '--db', db, '--host', '127.0.0.1', '--port', '0', '--token', TOKEN, '--log-json'];
    if (args.preload) {
      const model = join(dir, 'model');
      log(`training with \`hwlat train\` into ${model} …`);
      await promisify(execFile)(process.execPath, [BIN, 'train', '--db', db, '--device', deviceId, '--space', SPACE.name, '--out', model, '--json'], { maxBuffer: 16 * 1024 * 1024 });
      serveArgs.push('--model', model);
    }
    log(`starting ${REPLICAS} collector${REPLICAS > 1 ? 's' : ''} on ${dbKind} …`);
    const urls: string[] = [];
    for (let r = 0; r < REPLICAS; r++) {
      const serve = spawnHwlat(serveArgs, 'collector');
      serves.push(serve);
      urls.push((await serve.waitFor((e) => e.event === 'listening', 60_000)).url as string);
    }
    const url = urls.join(',');

    // the first request to each replica trains its predictor (unless preloaded); the next ones are served from its cache
    const first = JSON.parse(requestBodies('single', deviceId)[0] as string) as Record<string, unknown>;
    let warm: Record<string, any> = {};
    let firstSeconds = 0;
    for (const u of urls) {
      const tw = performance.now();
      const res = await fetch(`${u}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(first) });
      warm = (await res.json()) as Record<string, any>;
      if (res.status !== 200) throw new Error(`POST ${u}/api/predict: ${res.status} ${JSON.stringify(warm)}`);
      firstSeconds = Math.max(firstSeconds, (performance.now() - tw) / 1000);
    }
    log(`first request: ${firstSeconds.toFixed(2)} s (the slowest replica); kind '${warm.kind}' (${warm.predictor.source}), ${warm.predictor.networks} training networks`);
    const serversCpuMs = () => {
      const each = serves.map((s) => cpuMs(s.child.pid));
      return each.some((x) => x === null) ? null : (each as number[]).reduce((a, b) => a + b, 0);
    };

    const unloaded = await inChild('sequential', 'single', url, deviceId);
    const results: ScenarioResult[] = [];
    for (const scenario of SCENARIOS) {
      const modes: Mode[] = RATE > 0 && scenario !== 'batch' ? ['saturation', 'rate'] : ['saturation'];
      for (const mode of modes) {
        log(`load: ${scenario}, ${mode === 'rate' ? `${RATE} requests/s over at most` : 'saturation over'} ${CONNECTIONS} connections, ${SECONDS} s …`);
        const cpu0 = serversCpuMs();
        const r = await inChild(mode, scenario, url, deviceId);
        const cpu1 = serversCpuMs();
        const perRequest = scenario === 'batch' ? BATCH : 1;
        const { ok, bytes, ...rest } = r;
        results.push({
          ...rest,
          scenario,
          offeredRate: mode === 'rate' ? RATE : null,
          connections: CONNECTIONS,
          archsPerRequest: perRequest,
          requestsPerSec: r.requests / r.seconds,
          predictionsPerSec: (ok * perRequest) / r.seconds,
          responseBytes: ok > 0 ? Math.round(bytes / ok) : 0,
          // the rate phase's uncounted warm-up second is in the CPU time too: spread over all its requests
          serverCpuMsPerRequest: cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / (r.requests + (mode === 'rate' ? Math.round(RATE) : 0)) : null,
        });
      }
    }

    const out = {
      database: dbKind,
      replicas: REPLICAS,
      loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
      space: SPACE.name,
      device: deviceId,
      profile: { stored: profile.stored, ops: profile.ops, networks: profile.networks, seconds: Number(profileSeconds.toFixed(1)) },
      predictor: { kind: warm.kind, source: warm.predictor.source, trainingNetworks: warm.predictor.networks, firstRequestSeconds: Number(firstSeconds.toFixed(2)) },
      sequential: { requests: unloaded.requests, errors: unloaded.errors + unloaded.non2xx, latencyMs: unloaded.latencyMs },
      target: { requestsPerSec: 2000, p99Ms: 10 },
      results,
    };
    if (args.json) {
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
    const lines = [
      `${REPLICAS} collector${REPLICAS > 1 ? 's' : ''} on ${dbKind}, requests spread over ${REPLICAS > 1 ? 'them' : 'it'}; load average ${out.loadAverage.join(' ')} at the end (${availableParallelism()} cores)`,
      `${SPACE.name} on ${deviceId}: predictor '${out.predictor.kind}' (${out.predictor.source}, ${out.predictor.trainingNetworks} training networks), first request ${out.predictor.firstRequestSeconds} s`,
      `one connection, sequential: p50 ${f(unloaded.latencyMs.p50, 3)} ms, p99 ${f(unloaded.latencyMs.p99, 3)} ms`,
      '',
      '| scenario | load | archs/req | req/s | predictions/s | p50 ms | p90 ms | p99 ms | max ms | errors | non-2xx | bytes/resp | server CPU ms/req |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...results.map((r) =>
        `| ${r.scenario} | ${r.mode === 'rate' ? `${r.offeredRate}/s` : `saturation, ${r.connections} conns`} | ${r.archsPerRequest} | ${f(r.requestsPerSec, 0)} | ${f(r.predictionsPerSec, 0)} | ` +
        `${f(r.latencyMs.p50)} | ${f(r.latencyMs.p90)} | ${f(r.latencyMs.p99)} | ${f(r.latencyMs.max)} | ${r.errors} | ${r.non2xx} | ${r.responseBytes} | ` +
        `${r.serverCpuMsPerRequest === null ? '-' : f(r.serverCpuMsPerRequest, 3)} |`,
      ),
      '',
      'target: >= 2000 single predictions/s with p99 < 10 ms on loopback',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const s of serves) s.kill('SIGTERM');
    await Promise.all(serves.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}
