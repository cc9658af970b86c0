// Reproducible background load: makes this machine busy the way a shared device is busy (other
// tenants on a server, other tabs on a phone), so tests and benchmarks can see how measurements
// hold up under contention. N worker processes alternate seeded busy phases (a tight arithmetic
// loop that also touches a few MB to disturb the caches) and idle phases (sleep); one more process
// runs an onnxruntime-node session on the same schedule, like another model server.
//
// Library: const load = await startBackgroundLoad({ processes: 2, seed: 1 }); ...; await load.stop();
// CLI:     npx tsx scripts/bench/background-load.ts --processes 3 --seed 1 [--busy 200,2000]
//            [--idle 100,1500] [--no-ort] [--ort-threads 1] [--duration 600]
//          (--processes counts the ORT process; default ceil(1.5 × available parallelism))
import { fork, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import seedrandom from 'seedrandom';

export interface BackgroundLoadOptions {
  /** CPU worker processes (the ORT process comes on top of these) */
  processes: number;
  /** seedrandom seed: every process's phase lengths follow from it; a random one when absent */
  seed?: number | string;
  /** range of busy phase lengths in ms (uniform), default [200, 2000] */
  busyMs?: [number, number];
  /** range of idle phase lengths in ms (uniform), default [100, 1500] */
  idleMs?: [number, number];
  /** also one process running an onnxruntime-node session on the same kind of schedule, default true */
  ort?: boolean;
  /** that session's intra-op threads, default 1 */
  ortThreads?: number;
  /** every process stops by itself after this long, whatever happens to its parent; default 30 min */
  durationMs?: number;
}

export interface BackgroundLoadStats {
  /** share of the wall-clock time the processes spent in busy phases, since they started */
  busyFraction: number;
  /** summed over the processes: time in busy phases, and time since each started */
  busyMs: number;
  elapsedMs: number;
  /** CPU time (user + system) the processes report having used */
  cpuMs: number;
  /** processes still running */
  running: number;
}

export interface BackgroundLoad {
  /** kills every process and resolves once all have exited */
  stop(): Promise<void>;
  readonly pids: number[];
  /** the seed in use (the generated one when none was given), to reproduce the run */
  readonly seed: string;
  /**
   * Resolves once every process has exited (stop(), durationMs, or a crash), keeping this process
   * alive meanwhile (the load alone does not, see startBackgroundLoad).
   */
  wait(): Promise<void>;
  /** best effort: from the processes' last reports, about once a second */
  stats(): BackgroundLoadStats;
}

export interface Phase {
  kind: 'busy' | 'idle';
  ms: number;
}

/** What a worker process is told, as JSON in its one argument. */
export interface WorkerConfig {
  kind: 'cpu' | 'ort';
  seed: string;
  busyMs: [number, number];
  idleMs: [number, number];
  durationMs: number;
  ortThreads: number;
}

/** Worker → parent messages over the IPC channel. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'stats'; busyMs: number; elapsedMs: number; cpuMs: number };

export const DEFAULT_BUSY_MS: [number, number] = [200, 2000];
export const DEFAULT_IDLE_MS: [number, number] = [100, 1500];
export const DEFAULT_DURATION_MS = 30 * 60_000;
const MAX_DURATION_MS = 2 ** 31 - 1;
// an ORT process on a loaded 2-core machine takes a few seconds to load tsx, onnxruntime and the model
const READY_TIMEOUT_MS = 60_000;
// after SIGTERM, how long a process gets before SIGKILL
const KILL_GRACE_MS = 2_000;

const WORKER = fileURLToPath(new URL('./background-load-worker.ts', import.meta.url));
// resolved from this file rather than the caller's cwd, which `--import tsx` would use
const TSX = import.meta.resolve('tsx');

function checkRange(r: readonly number[], name: string): [number, number] {
  const [lo, hi] = r;
  if (r.length !== 2 || lo === undefined || hi === undefined || !Number.isFinite(lo) || !Number.isFinite(hi) || lo < 0 || hi < lo) {
    throw new RangeError(`'${name}' must be [min, max] with 0 <= min <= max, got ${JSON.stringify(r)}`);
  }
  return [lo, hi];
}

/**
 * The endless phase sequence for one seed: the first phase's kind is drawn too, so processes with
 * different seeds do not all start busy at the same moment; then busy and idle alternate, each
 * length uniform in its range and rounded to whole ms.
 */
export function* phases(seed: number | string, busyMs: readonly number[], idleMs: readonly number[]): Generator<Phase, never> {
  const busy = checkRange(busyMs, 'busyMs');
  const idle = checkRange(idleMs, 'idleMs');
  const rng = seedrandom(String(seed));
  let kind: Phase['kind'] = rng() < 0.5 ? 'busy' : 'idle';
  for (;;) {
    const [lo, hi] = kind === 'busy' ? busy : idle;
    yield { kind, ms: Math.round(lo + rng() * (hi - lo)) };
    kind = kind === 'busy' ? 'idle' : 'busy';
  }
}

/** The first `count` phases of `phases(seed, ...)`: the schedule one process follows. */
export function phaseSchedule(seed: number | string, busyMs: readonly number[], idleMs: readonly number[], count: number): Phase[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`'count' must be a whole number >= 0, got ${count}`);
  const out: Phase[] = [];
  const gen = phases(seed, busyMs, idleMs);
  while (out.length < count) out.push(gen.next().value);
  return out;
}

/** Each process's own seed, so that processes differ but the whole load follows from one seed. */
export function workerSeed(seed: number | string, worker: number | 'ort'): string {
  return `${seed}/${worker}`;
}

interface Worker {
  child: ChildProcess;
  exited: Promise<void>;
  last: { busyMs: number; elapsedMs: number; cpuMs: number };
}

function launch(config: WorkerConfig): Worker {
  const child = fork(WORKER, [JSON.stringify(config)], {
    // explicit: the caller's own execArgv may hold --test, --inspect or a different loader
    execArgv: ['--import', TSX],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const w: Worker = {
    child,
    exited: new Promise((resolve) => {
      child.once('exit', () => resolve());
      // a process that could not be started emits 'error' and never 'exit'
      child.on('error', () => child.pid === undefined && resolve());
    }),
    last: { busyMs: 0, elapsedMs: 0, cpuMs: 0 },
  };
  child.on('message', (m: WorkerMessage) => {
    if (m.type === 'stats') w.last = { busyMs: m.busyMs, elapsedMs: m.elapsedMs, cpuMs: m.cpuMs };
  });
  return w;
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

async function killAll(workers: readonly Worker[]): Promise<void> {
  for (const w of workers) if (running(w.child)) w.child.kill('SIGTERM');
  const grace = setTimeout(() => {
    for (const w of workers) if (running(w.child)) w.child.kill('SIGKILL');
  }, KILL_GRACE_MS);
  try {
    await Promise.all(workers.map((w) => w.exited));
  } finally {
    clearTimeout(grace);
  }
}

function waitReady(w: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      w.child.off('message', onMessage);
      if (err) reject(err);
      else resolve();
    };
    const onMessage = (m: WorkerMessage) => m.type === 'ready' && done();
    const timer = setTimeout(() => done(new Error(`background-load worker not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    w.child.on('message', onMessage);
    void w.exited.then(() => done(new Error(`background-load worker exited (${w.child.exitCode ?? w.child.signalCode ?? 'not started'}) before it was ready`)));
  });
}

/**
 * Starts the load and resolves once every process is running its schedule (the ORT one with its
 * session created). The processes do not keep the caller alive: they exit when its IPC channel
 * closes (it exits, is killed, or forgets stop()), and after `durationMs` in any case.
 *
 * @example
 * const load = await startBackgroundLoad({ processes: 2, seed: 1 });
 * try { await measureSomething(); } finally { await load.stop(); }
 */
export async function startBackgroundLoad(options: BackgroundLoadOptions): Promise<BackgroundLoad> {
  const ort = options.ort ?? true;
  if (!Number.isInteger(options.processes) || options.processes < 0) throw new RangeError(`'processes' must be a whole number >= 0, got ${options.processes}`);
  if (options.processes === 0 && !ort) throw new RangeError("'processes' is 0 and 'ort' is false: no process to start");
  const busyMs = checkRange(options.busyMs ?? DEFAULT_BUSY_MS, 'busyMs');
  const idleMs = checkRange(options.idleMs ?? DEFAULT_IDLE_MS, 'idleMs');
  if (busyMs[1] <= 0) throw new RangeError("'busyMs' must allow busy phases longer than 0 ms");
  const durationMs = options.durationMs ?? DEFAULT_DURATION_MS;
  // setTimeout's limit: a longer delay would fire at once
  if (!(durationMs > 0 && durationMs <= MAX_DURATION_MS)) throw new RangeError(`'durationMs' must be > 0 and <= ${MAX_DURATION_MS} (~24.8 days), got ${durationMs}`);
  const ortThreads = options.ortThreads ?? 1;
  if (!Number.isInteger(ortThreads) || ortThreads < 1) throw new RangeError(`'ortThreads' must be a whole number >= 1, got ${ortThreads}`);
  const seed = String(options.seed ?? Math.floor(Math.random() * 2 ** 32));

  const base = { busyMs, idleMs, durationMs, ortThreads };
  const configs: WorkerConfig[] = Array.from({ length: options.processes }, (_, i) => ({ kind: 'cpu' as const, seed: workerSeed(seed, i), ...base }));
  if (ort) configs.push({ kind: 'ort', seed: workerSeed(seed, 'ort'), ...base });
  const workers = configs.map(launch);
  try {
    await Promise.all(workers.map(waitReady));
  } catch (e) {
    await killAll(workers);
    throw e;
  }
  // from here on the load must not hold the caller's process open (see above)
  for (const w of workers) {
    w.child.unref();
    w.child.channel?.unref();
  }
  const exited = Promise.all(workers.map((w) => w.exited)).then(() => undefined);
  return {
    pids: workers.map((w) => w.child.pid as number),
    seed,
    stop: () => killAll(workers),
    wait() {
      // a ref'd process handle holds the event loop until that process exits
      for (const w of workers) w.child.ref();
      return exited;
    },
    stats() {
      const sum = (f: (w: Worker) => number) => workers.reduce((a, w) => a + f(w), 0);
      const busy = sum((w) => w.last.busyMs);
      const elapsed = sum((w) => w.last.elapsedMs);
      return {
        busyFraction: elapsed > 0 ? busy / elapsed : 0,
        busyMs: busy,
        elapsedMs: elapsed,
        cpuMs: sum((w) => w.last.cpuMs),
        running: workers.filter((w) => running(w.child)).length,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------- CLI

function parseRange(text: string, flag: string): [number, number] {
  const parts = text.split(',').map((s) => Number(s.trim()));
  try {
    if (parts.length !== 2) throw new RangeError('');
    return checkRange(parts, flag);
  } catch {
    throw new Error(`${flag} must be MIN,MAX in ms with 0 <= MIN <= MAX, got '${text}'`);
  }
}

function parseCount(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be a whole number >= ${min}, got '${text}'`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  // loaded here, not at the top: every worker process imports this file for its schedule
  const { Command } = await import('commander');
  const defaultProcesses = Math.ceil(1.5 * os.availableParallelism());
  const program = new Command()
    .name('background-load')
    .description('Keeps this machine busy like a shared device: processes alternating seeded busy and idle phases, one of them an onnxruntime-node session.')
    .option('--processes <n>', 'processes in all, the ORT one included', String(defaultProcesses))
    .option('--seed <seed>', 'seedrandom seed for the phase lengths (random when absent; printed)')
    .option('--busy <min,max>', 'busy phase lengths in ms', '200,2000')
    .option('--idle <min,max>', 'idle phase lengths in ms', '100,1500')
    .option('--no-ort', 'no onnxruntime-node process: all processes are plain CPU load')
    .option('--ort-threads <n>', "the ORT session's intra-op threads", '1')
    .option('--duration <s>', 'stop after this many seconds', String(DEFAULT_DURATION_MS / 1000))
    .addHelpText('after', '\nExample (3 processes for 10 minutes, same phases every time):\n  npx tsx scripts/bench/background-load.ts --processes 3 --seed 1 --duration 600\n');
  program.parse(argv);
  const o = program.opts<{ processes: string; seed?: string; busy: string; idle: string; ort: boolean; ortThreads: string; duration: string }>();
  const total = parseCount(o.processes, '--processes', 1);
  const durationS = Number(o.duration);
  if (!(durationS > 0) || !Number.isFinite(durationS)) throw new Error(`--duration must be seconds > 0, got '${o.duration}'`);
  const load = await startBackgroundLoad({
    processes: o.ort ? total - 1 : total,
    ort: o.ort,
    ortThreads: parseCount(o.ortThreads, '--ort-threads', 1),
    busyMs: parseRange(o.busy, '--busy'),
    idleMs: parseRange(o.idle, '--idle'),
    durationMs: durationS * 1000,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
  });
  const t0 = Date.now();
  console.log(`background load: ${load.pids.length} processes (${o.ort ? 'one onnxruntime-node, ' : ''}pids ${load.pids.join(' ')}), seed ${load.seed}, busy ${o.busy} ms, idle ${o.idle} ms, for ${durationS} s; Ctrl-C stops`);
  let prev = load.stats();
  const status = setInterval(() => {
    const s = load.stats();
    const window = s.elapsedMs - prev.elapsedMs > 0 ? (s.busyMs - prev.busyMs) / (s.elapsedMs - prev.elapsedMs) : s.busyFraction;
    prev = s;
    const la = os.loadavg().map((x) => x.toFixed(2)).join(' ');
    console.log(`[${String(Math.round((Date.now() - t0) / 1000)).padStart(5)} s] load average ${la} | busy ${(100 * window).toFixed(0)}% (since start ${(100 * s.busyFraction).toFixed(0)}%) | ${s.running}/${load.pids.length} running`);
  }, 5_000);
  let stopping: Promise<void> | undefined;
  const stop = (why: string) =>
    (stopping ??= (async () => {
      clearInterval(status);
      await load.stop();
      console.log(`background load stopped (${why}) after ${Math.round((Date.now() - t0) / 1000)} s`);
    })());
  process.once('SIGINT', () => void stop('Ctrl-C'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await load.wait();
  await stop('duration reached');
}

function isEntry(): boolean {
  const entry = process.argv[1];
  try {
    return entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv).catch((e: unknown) => {
    console.error(`background-load: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}
