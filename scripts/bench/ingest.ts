// Collector ingest benchmark: N concurrent simulated agents (real ws clients, one device each,
// tests/helpers/sim-agent.ts) lease jobs and send synthetic results to real `hwlat serve`
// processes for a bounded time. With --replicas R, R collectors share one database; agent i starts
// on replica i mod R and is given every replica's URL, so it fails over as `hwlat agent
// --collector A,B` does (same agent id, its unacknowledged results re-sent under the same ids).
// With --kill, the replica serving the most agents is SIGKILLed at 1/4 and 1/2 of the run (or once
// the first is back) and restarted on the same port after each kill (agents stay where they failed over to, as hwlat
// agent does, so killing the same replica twice would hit no agent the second time).
//
// Prints acknowledged results/s, ack latency percentiles, and, read back from the database
// afterwards: lost (acknowledged but not stored) and duplicated (a job with more than one stored
// result) counts, and the load average (the machine may be shared).
//
//   npx tsx scripts/bench/ingest.ts [--db sqlite|postgres|postgres://…] [--replicas 1] [--kill]
//     [--agents 50] [--seconds 20] [--tasks 2000] [--batch 16] [--pg-settings durable|test] [--json]
//
// --db sqlite (default): a temp SQLite file. --db postgres: a throwaway cluster
// (scripts/pg-throwaway.sh), with a production server's durability (fsync, synchronous commit,
// full-page writes) unless --pg-settings test (the tests' settings: none of them).
// --db postgres://…: that database (the benchmark writes a campaign and 50 devices into it).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { quantile } from 'simple-statistics';
import { openStoreAt } from '../../collector/index.ts';
import { benchDatabase, checkDbArgument, cpuMs, postgresCpuMs } from './bench-db.ts';
import { freePort, getJson, startServe, type HwlatProcess } from '../../tests/helpers/procs.ts';
import { runSimAgent, type SimAgentReport } from '../../tests/helpers/sim-agent.ts';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite' },
    replicas: { type: 'string', default: '1' },
    kill: { type: 'boolean', default: false },
    agents: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    tasks: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '16' },
    'pg-settings': { type: 'string', default: 'durable' },
    json: { type: 'boolean', default: false },
  },
});
const positiveInt = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got '${v}'`);
  return n;
};
const AGENTS = positiveInt('agents', args.agents);
const SECONDS = positiveInt('seconds', args.seconds);
const BATCH = positiveInt('batch', args.batch);
const REPLICAS = positiveInt('replicas', args.replicas);
const TASKS = positiveInt('tasks', args.tasks);
if (args['pg-settings'] !== 'durable' && args['pg-settings'] !== 'test') throw new RangeError(`--pg-settings must be 'durable' or 'test', got '${args['pg-settings']}'`);
checkDbArgument(args.db);
const TOKEN = 'bench-token-0123456789';
const log = (line: string) => {
  if (!args.json) process.stderr.write(`${line}\n`);
};

const dir = mkdtempSync(join(tmpdir(), 'hwlat-ingest-'));
const cleanups: Array<() => void> = [() => rmSync(dir, { recursive: true, force: true })];
const cleanUp = () => {
  for (const c of cleanups.splice(0).reverse()) c();
};
process.once('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const { db, kind, postmaster } = await benchDatabase({ db: args.db, dir, durable: args['pg-settings'] === 'durable', sqliteName: 'ingest.sqlite' });
log(`database: ${kind}; starting ${REPLICAS} collector${REPLICAS > 1 ? 's' : ''} …`);
const load0 = loadavg();

// one port per replica, chosen up front, so a killed replica comes back where its agents look
const replicas: Array<{ port: number; proc: HwlatProcess; wsUrl: string; url: string }> = [];
for (let r = 0; r < REPLICAS; r++) {
  const s = await startServe({ db, token: TOKEN, port: await freePort(), leaseTtlMs: 60_000 });
  replicas.push({ port: s.port, proc: s.proc, wsUrl: s.wsUrl, url: s.url });
}
cleanups.push(() => replicas.forEach((r) => r.proc.kill('SIGKILL')));
const wsUrls = replicas.map((r) => r.wsUrl);

const created = await getJson(`${replicas[0]!.url}/api/campaigns`, {
  method: 'POST',
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify({ space: 'nasbench201', networks: TASKS, devices: 'all' }),
});
if (created.status !== 201) throw new Error(`campaign: ${JSON.stringify(created.body)}`);
const campaignId = created.body.id as string;
log(`campaign ${campaignId}: ${TASKS} tasks per device; ${AGENTS} agents saying hello …`);

// device ids unique to this run: a database given with --db postgres://… may hold earlier runs'
const runTag = randomBytes(3).toString('hex');
const agentAt = new Map<number, string>(); // agent → the ws URL it is connected to now
// every agent says hello (its device's jobs are created then) before the clock starts: this
// measures ingest, not 50 devices registering at once (that time is reported on its own)
let go!: () => void;
const start = new Promise<void>((r) => (go = r));
let allConnected!: () => void;
const connected = new Promise<void>((r) => (allConnected = r));
let deadline = Infinity;
let t0 = 0;
const tr = performance.now();
const agents = Array.from({ length: AGENTS }, (_, i) => {
  const home = i % REPLICAS;
  return runSimAgent({
    urls: [...wsUrls.slice(home), ...wsUrls.slice(0, home)],
    token: TOKEN,
    deviceId: `dev-${runTag}${i.toString(16).padStart(6, '0')}`,
    batch: BATCH,
    stop: () => Date.now() >= deadline,
    start,
    onConnect: (url) => {
      agentAt.set(i, url);
      if (agentAt.size === AGENTS) allConnected();
    },
  });
});
await Promise.race([connected, Promise.all(agents)]);
const registerSeconds = (performance.now() - tr) / 1000;
log(`${AGENTS} devices registered (their jobs created) in ${registerSeconds.toFixed(1)} s; ingesting for ${SECONDS} s …`);
// CPU used during the timed window: by the collectors (each process from t0, or from its restart,
// to the end, or to its kill), by PostgreSQL (a throwaway cluster only) and by the simulated agents
let collectorCpuMs = 0;
const cpuFrom = new Map<number, number>();
for (const r of replicas) cpuFrom.set(r.proc.child.pid!, cpuMs(r.proc.child.pid));
const pgCpu0 = postmaster !== undefined ? postgresCpuMs(postmaster) : 0;
const agentCpu0 = process.cpuUsage();
deadline = Date.now() + SECONDS * 1000;
t0 = performance.now();
go();

const kills: Array<{ atSeconds: number; replica: number; agentsOnIt: number; downSeconds: number }> = [];
const killer = (async () => {
  if (!args.kill) return;
  // the second kill waits for the first replica to be back (a restart takes seconds on a busy machine)
  for (const at of [1 / 4, 1 / 2]) {
    const when = t0 + at * SECONDS * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, when - performance.now())));
    const counts = replicas.map((r) => [...agentAt.values()].filter((u) => u === r.wsUrl).length);
    const victim = counts.indexOf(Math.max(...counts));
    const rep = replicas[victim]!;
    const tk = performance.now();
    const pid = rep.proc.child.pid!;
    collectorCpuMs += cpuMs(pid) - (cpuFrom.get(pid) ?? 0);
    rep.proc.kill('SIGKILL');
    await rep.proc.exited;
    log(`killed replica ${victim} (${counts[victim]} agents on it) at ${((tk - t0) / 1000).toFixed(1)} s; restarting it`);
    const s = await startServe({ db, token: TOKEN, port: rep.port, leaseTtlMs: 60_000 });
    rep.proc = s.proc;
    cpuFrom.set(s.proc.child.pid!, cpuMs(s.proc.child.pid));
    kills.push({ atSeconds: Number(((tk - t0) / 1000).toFixed(1)), replica: victim, agentsOnIt: counts[victim]!, downSeconds: Number(((performance.now() - tk) / 1000).toFixed(1)) });
  }
})();

const reports: SimAgentReport[] = await Promise.all(agents);
const seconds = (performance.now() - t0) / 1000;
await killer;
const load1 = loadavg();
for (const r of replicas) collectorCpuMs += cpuMs(r.proc.child.pid) - (cpuFrom.get(r.proc.child.pid!) ?? 0);
const pgCpuMs = postmaster !== undefined ? postgresCpuMs(postmaster) - pgCpu0 : null;
const agentCpu = process.cpuUsage(agentCpu0);
const agentCpuMs = (agentCpu.user + agentCpu.system) / 1000;
for (const r of replicas) r.proc.kill('SIGTERM');
await Promise.all(replicas.map((r) => r.proc.exited));

// what the database holds, read back after the collectors are gone
log('reading back what was stored …');
const acked = new Map<string, string>();
for (const r of reports) for (const [id, job] of r.acked) acked.set(id, job);
const store = await openStoreAt(db);
const storedJobOf = new Map<string, string | undefined>();
const resultsPerJob = new Map<string, number>();
for (const r of reports) {
  for (const m of await store.listMeasurements({ deviceId: r.deviceId })) {
    storedJobOf.set(m.id, m.jobId ?? undefined);
    if (m.jobId && m.quality?.verdict !== 'disturbed') resultsPerJob.set(m.jobId, (resultsPerJob.get(m.jobId) ?? 0) + 1);
  }
}
const jobs = await store.listJobs({ campaignId });
await store.close();
const lost = [...acked.keys()].filter((id) => !storedJobOf.has(id)).length;
const duplicated = [...resultsPerJob.values()].filter((n) => n > 1).length;
// a job marked done must point at a stored result of its own
const inconsistent = jobs.filter((j) => j.status === 'done' && (j.resultId === null || storedJobOf.get(j.resultId) !== j.id)).length;
const doneJobs = jobs.filter((j) => j.status === 'done').length;

const latencies = reports.flatMap((r) => r.ackLatencyMs).sort((a, b) => a - b);
const q = (p: number) => (latencies.length > 0 ? quantile(latencies, p) : NaN);
const round = (x: number, d = 1) => Number(x.toFixed(d));
const result = {
  database: kind,
  replicas: REPLICAS,
  kill: args.kill,
  agents: AGENTS,
  batch: BATCH,
  registerSeconds: round(registerSeconds),
  seconds: round(seconds),
  sent: reports.reduce((s, r) => s + r.sent, 0),
  acked: acked.size,
  stored: storedJobOf.size,
  jobsDone: doneJobs,
  resultsPerSecond: Math.round(acked.size / seconds),
  ackLatencyMs: { p50: round(q(0.5)), p99: round(q(0.99)), max: round(latencies.at(-1) ?? NaN) },
  failovers: reports.reduce((s, r) => s + r.failovers, 0),
  resent: reports.reduce((s, r) => s + r.resent, 0),
  kills,
  errors: reports.flatMap((r) => r.errors).length,
  lost,
  duplicated,
  inconsistent,
  // ms of CPU per acknowledged result, and how many of the machine's cores the three kept busy
  cpuMsPerResult: {
    collectors: round(collectorCpuMs / Math.max(1, acked.size), 2),
    postgres: pgCpuMs === null ? null : round(pgCpuMs / Math.max(1, acked.size), 2),
    agents: round(agentCpuMs / Math.max(1, acked.size), 2),
  },
  coresBusy: round((collectorCpuMs + (pgCpuMs ?? 0) + agentCpuMs) / 1000 / seconds, 2),
  loadAverage: { start: load0.map((x) => round(x, 2)), end: load1.map((x) => round(x, 2)) },
};
if (args.json) console.log(JSON.stringify(result, null, 2));
else {
  const f = (n: number) => n.toLocaleString('en-US');
  console.log(`${AGENTS} simulated agents for ${result.seconds} s against ${REPLICAS} collector process${REPLICAS > 1 ? 'es' : ''} on ${kind} (batch ${BATCH} results per lease)`);
  console.log(`(${AGENTS} devices said hello and got their ${TASKS} jobs each in ${result.registerSeconds} s before the clock started)`);
  for (const k of kills) console.log(`  SIGKILL replica ${k.replica} at ${k.atSeconds} s with ${k.agentsOnIt} agents on it; back after ${k.downSeconds} s`);
  console.log(`results sent ${f(result.sent)}, acked ${f(acked.size)}, stored ${f(storedJobOf.size)}, jobs done ${f(doneJobs)}, error replies ${result.errors}; failovers ${result.failovers}, results re-sent ${result.resent}`);
  console.log(`ingest ${f(result.resultsPerSecond)} acked results/s; ack latency p50 ${result.ackLatencyMs.p50} ms, p99 ${result.ackLatencyMs.p99} ms, max ${result.ackLatencyMs.max} ms`);
  console.log(`lost (acked but not stored): ${lost}; duplicated (jobs with more than one result): ${duplicated}; done jobs without their result: ${inconsistent}`);
  const c = result.cpuMsPerResult;
  console.log(`CPU per acked result: collectors ${c.collectors} ms, ${c.postgres === null ? 'PostgreSQL not measured (not a throwaway cluster)' : `PostgreSQL ${c.postgres} ms`}, simulated agents ${c.agents} ms; together they kept ${result.coresBusy} cores busy`);
  console.log(`load average (1/5/15 min): ${result.loadAverage.start.join(' ')} at the start, ${result.loadAverage.end.join(' ')} at the end (${availableParallelism()} cores)`);
}
if (lost > 0 || duplicated > 0 || inconsistent > 0) process.exitCode = 1;
cleanUp();
