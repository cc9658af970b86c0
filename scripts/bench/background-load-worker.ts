// One process of scripts/bench/background-load.ts's load; not run by hand. startBackgroundLoad
// forks it as `node --import tsx background-load-worker.ts '<WorkerConfig as JSON>'` with an IPC
// channel, and it follows its seeded busy/idle schedule until that channel closes (the parent
// stopped, exited or was killed), it is killed, or durationMs passes.
//   kind 'cpu': busy = arithmetic in a tight loop that also writes to random cache lines of a
//               few MB buffer; idle = sleep
//   kind 'ort': busy = onnxruntime-node session.run back to back (a 3×3 convolution, ~1–5 ms a
//               run on one core); idle = sleep
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { phases, type WorkerConfig, type WorkerMessage } from './background-load.ts';

// 8 MB: more than a typical per-core L2 and a good share of a shared L3
const BUFFER_BYTES = 8 << 20;
// a busy phase yields to the event loop this often, so that a closed IPC channel, the hard stop
// and the stats timer are seen within this many ms even in a 2 s busy phase
const SLICE_MS = 20;
const STATS_EVERY_MS = 1_000;

const config = JSON.parse(process.argv[2] ?? 'null') as WorkerConfig | null;
if (!config || !process.send) {
  console.error('background-load-worker: started by startBackgroundLoad (scripts/bench/background-load.ts), with an IPC channel and its config as the one argument');
  process.exit(2);
}

// whatever happens to the parent, nothing of this load outlives it or durationMs
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(0), config.durationMs);

function send(m: WorkerMessage): void {
  if (process.connected) process.send?.(m);
}

const t0 = performance.now();
let busyMs = 0;
setInterval(() => {
  const cpu = process.cpuUsage();
  send({ type: 'stats', busyMs, elapsedMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 });
}, STATS_EVERY_MS);

/** What one busy slice does until `untilMs` (performance.now() time). */
type Work = (untilMs: number) => Promise<void> | void;

function cpuWork(): Work {
  const buf = new Uint32Array(BUFFER_BYTES / 4);
  const lines = buf.length / 16; // 64-byte cache lines of 16 words
  let x = 0x9e3779b9 | 0;
  // touch every page once so the buffer is resident before the first busy phase
  for (let i = 0; i < buf.length; i += 1024) buf[i] = i;
  return (untilMs) => {
    while (performance.now() < untilMs) {
      // a few thousand LCG steps between clock reads keep the loop on the ALUs, not on the clock
      for (let k = 0; k < 4096; k++) {
        x = (Math.imul(x, 1664525) + 1013904223) | 0;
        // every 8th step a read-modify-write on a pseudo-random cache line of the buffer
        if ((k & 7) === 0) {
          const i = ((x >>> 0) % lines) * 16;
          buf[i] = ((buf[i] as number) + x) | 0;
        }
      }
    }
  };
}

async function ortWork(threads: number): Promise<Work> {
  const ort = await import('onnxruntime-node');
  // the builder's own modules rather than ops-library/index.ts: the search spaces are not needed
  const { lowerSpec } = await import('../../ops-library/graph.ts');
  const { buildOnnx } = await import('../../ops-library/onnx/builder.ts');
  // 64→64 channels 3×3 on 56×56: ~0.23 GFLOP, about 2 ms a run on one current x86 core
  const input = [1, 64, 56, 56];
  const bytes = buildOnnx(lowerSpec({ op: 'conv2d', input: [64, 56, 56], out: 64, kernel: 3 }), { inputNames: ['input'] });
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    executionMode: 'sequential',
    interOpNumThreads: 1,
    intraOpNumThreads: threads,
  });
  const data = Float32Array.from({ length: input.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37));
  const feeds = { input: new ort.Tensor('float32', data, input) };
  await session.run(feeds);
  return async (untilMs) => {
    while (performance.now() < untilMs) await session.run(feeds);
  };
}

const work = config.kind === 'ort' ? await ortWork(config.ortThreads) : cpuWork();
send({ type: 'ready' });

for (const phase of phases(config.seed, config.busyMs, config.idleMs)) {
  if (phase.kind === 'idle') {
    await sleep(phase.ms);
    continue;
  }
  const end = performance.now() + phase.ms;
  for (let now = performance.now(); now < end; now = performance.now()) {
    await work(Math.min(end, now + SLICE_MS));
    busyMs += performance.now() - now;
    await yieldToLoop();
  }
}
