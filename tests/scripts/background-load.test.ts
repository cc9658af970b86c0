// scripts/bench/background-load.ts: real worker processes that use the CPU, leave nothing behind
// (stop(), a killed parent, durationMs) and follow a schedule that the seed reproduces.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { phaseSchedule, startBackgroundLoad, workerSeed } from '../../scripts/bench/background-load.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../scripts/bench/background-load.ts', import.meta.url));
// /proc/<pid>/stat counts CPU time in USER_HZ ticks, 100 a second on Linux
const TICK_MS = 10;
const onLinux = process.platform === 'linux';

/** State and CPU time (user + system) of a process from /proc; undefined once it is gone. */
function procStat(pid: number): { state: string; cpuMs: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the fields after the command name, which is in parentheses and may itself hold spaces
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0] as string, cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS };
}

/** Running, in the sense that matters here: exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  if (onLinux) {
    const s = procStat(pid);
    return s !== undefined && s.state !== 'Z' && s.state !== 'X';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function untilGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the phase schedule is reproducible from the seed, alternates and stays in its ranges', () => {
  const busy: [number, number] = [200, 2000];
  const idle: [number, number] = [100, 1500];
  const a = phaseSchedule(1, busy, idle, 40);
  assert.deepEqual(phaseSchedule(1, busy, idle, 40), a);
  assert.deepEqual(phaseSchedule('1', busy, idle, 40), a, 'a number seed is its string');
  assert.deepEqual(phaseSchedule(1, busy, idle, 10), a.slice(0, 10), 'a longer schedule only adds phases');
  assert.notDeepEqual(phaseSchedule(2, busy, idle, 40), a);
  assert.notDeepEqual(phaseSchedule(workerSeed(1, 0), busy, idle, 40), phaseSchedule(workerSeed(1, 1), busy, idle, 40), 'each process its own phases');
  a.forEach((p, i) => {
    if (i > 0) assert.notEqual(p.kind, a[i - 1]?.kind, 'busy and idle alternate');
    const [lo, hi] = p.kind === 'busy' ? busy : idle;
    assert.ok(Number.isInteger(p.ms) && p.ms >= lo && p.ms <= hi, `${p.kind} ${p.ms} ms outside [${lo}, ${hi}]`);
  });
  // the lengths really spread over the range rather than sitting at one value
  const busyMs = a.filter((p) => p.kind === 'busy').map((p) => p.ms);
  assert.ok(Math.max(...busyMs) - Math.min(...busyMs) > 600, `busy phases ${busyMs.join(' ')}`);
  assert.deepEqual(phaseSchedule(7, [300, 300], [0, 0], 4).map((p) => p.ms).sort(), [0, 0, 300, 300]);
  assert.throws(() => phaseSchedule(1, [5, 1], idle, 3), { name: 'RangeError', message: /'busyMs'/ });
  assert.throws(() => phaseSchedule(1, busy, [-1, 3], 3), { name: 'RangeError', message: /'idleMs'/ });
  assert.throws(() => phaseSchedule(1, busy, idle, -1), { name: 'RangeError', message: /'count'/ });
});

test('startBackgroundLoad checks its options before starting anything', async () => {
  await assert.rejects(startBackgroundLoad({ processes: -1 }), { name: 'RangeError', message: /'processes'/ });
  await assert.rejects(startBackgroundLoad({ processes: 0, ort: false }), { name: 'RangeError', message: /'processes'/ });
  await assert.rejects(startBackgroundLoad({ processes: 1, busyMs: [0, 0] }), { name: 'RangeError', message: /'busyMs'/ });
  await assert.rejects(startBackgroundLoad({ processes: 1, durationMs: 0 }), { name: 'RangeError', message: /'durationMs'/ });
  await assert.rejects(startBackgroundLoad({ processes: 1, ortThreads: 0 }), { name: 'RangeError', message: /'ortThreads'/ });
});

test('a CPU process and the ORT process really use the CPU, and stop() leaves none running', { skip: !onLinux && 'reads /proc', timeout: 60_000 }, async () => {
  // mostly busy, so that a sleeping worker could not pass for a working one
  const load = await startBackgroundLoad({ processes: 1, ort: true, seed: 3, busyMs: [400, 800], idleMs: [20, 50], durationMs: 60_000 });
  try {
    assert.equal(load.pids.length, 2);
    assert.equal(load.seed, '3');
    for (const pid of load.pids) assert.ok(alive(pid), `pid ${pid} is not running`);
    // Each must use 400 ms of CPU within 6 s: a busy process on a free core takes ~0.5 s, one that
    // shares 2 cores with other work a few seconds; a sleeping one (~10 ms a second) never gets there.
    const before = load.pids.map((pid) => procStat(pid)?.cpuMs ?? Number.NaN);
    const used = () => load.pids.map((pid, i) => (procStat(pid)?.cpuMs ?? Number.NaN) - (before[i] as number));
    const deadline = Date.now() + 6000;
    while (used().some((ms) => !(ms >= 400)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const u = used();
    load.pids.forEach((pid, i) => assert.ok((u[i] as number) >= 400, `pid ${pid} used ${u[i]} ms of CPU in 6 s: ${u.join(', ')} ms`));
    // the processes report about once a second
    while (load.stats().elapsedMs === 0 && Date.now() < deadline + 3000) await new Promise((r) => setTimeout(r, 100));
    const s = load.stats();
    assert.ok(s.busyFraction > 0.5 && s.busyFraction <= 1, `busy fraction ${s.busyFraction}`);
    assert.ok(s.cpuMs > 0 && s.running === 2, JSON.stringify(s));
  } finally {
    await load.stop();
  }
  // stop() awaits every exit, and Node reaps its own children: gone at once, not zombies
  assert.deepEqual(load.pids.filter(alive), []);
  assert.equal(load.stats().running, 0);
  await load.stop(); // a second stop() is harmless
});

test('the processes stop by themselves after durationMs', { timeout: 30_000 }, async () => {
  const load = await startBackgroundLoad({ processes: 1, ort: false, seed: 1, durationMs: 1000 });
  const t0 = Date.now();
  await load.wait();
  assert.ok(Date.now() - t0 < 5000);
  assert.deepEqual(load.pids.filter(alive), []);
});

test('the CLI prints its pids, and its processes die with it when it is killed', { timeout: 60_000 }, async () => {
  const cli = spawn(process.execPath, ['--import', 'tsx', CLI, '--processes', '2', '--no-ort', '--seed', '1', '--duration', '60'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const pids = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    cli.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /pids ([\d ]+)\)/.exec(out);
      if (m) resolve((m[1] as string).trim().split(' ').map(Number));
    });
    cli.once('exit', (code) => reject(new Error(`the CLI exited (${code}) before printing its pids; stderr:\n${stderr}`)));
  });
  assert.equal(pids.length, 2);
  for (const pid of pids) assert.ok(alive(pid), `pid ${pid} is not running`);
  // SIGKILL: no handler of the CLI runs, only the closed IPC channel tells the workers
  const exited = new Promise((r) => cli.once('exit', r));
  cli.kill('SIGKILL');
  await exited;
  assert.deepEqual(await untilGone(pids, 5000), [], 'workers still running after their parent was killed');
});
