import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { makeFeeds } from './ort-feeds.ts';
import { kernelsFromProfile, KernelProfileError, parseProfileJson, type KernelProfileResult } from './ort-profile.ts';

export interface ProfileKernelsOptions {
  /** execution provider (default 'cpu') */
  provider?: string;
  /** intra-op threads; 0 = runtime default (default 1, as the agents measure) */
  threads?: number;
  /** timed runs after warm-up (default 20) */
  runs?: number;
  /** warm-up runs, profiled but left out (default 3) */
  warmup?: number;
}

function check(name: string, v: number, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`'${name}' must be an integer >= ${min}, got ${String(v)}`);
}

/**
 * Runs a model on onnxruntime-node with the profiler on and returns the kernels ORT really
 * executed, timed in context: the session optimises the graph fully (`graphOptimizationLevel:
 * 'all'`, what the agents measure with), writes the optimised graph to a temporary file, runs
 * `warmup + runs` times one after another, and the profiler's node events are joined to that
 * graph (ort-profile.ts `kernelsFromProfile`). Each kernel's `ms` is its median over the timed
 * runs; `runMs` the median whole run and `kernelSumMs` the median sum of kernel times, so the
 * overhead between kernels is visible. Sequential execution, one inter-op thread, as the harness.
 *
 * The profiler costs time of its own (ORT records memory statistics per node): whole-network
 * latency is measured with the profiler off (agent/profiler.ts); this gives its breakdown.
 *
 * @example
 * const bytes = buildOnnx(lowerNetwork(getSpace('nasbench201').expand(arch)));
 * const p = await profileKernels(bytes, { threads: 1, runs: 20, warmup: 3 });
 * console.log(p.runMs, p.kernelSumMs, p.kernels.map((k) => `${k.op} ${k.ms.toFixed(3)}`));
 */
export async function profileKernels(bytes: Uint8Array, options: ProfileKernelsOptions = {}): Promise<KernelProfileResult> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`'bytes' must be a Uint8Array of ONNX bytes, got ${typeof bytes}`);
  const provider = options.provider ?? 'cpu';
  const threads = options.threads ?? 1;
  const runs = options.runs ?? 20;
  const warmup = options.warmup ?? 3;
  check('threads', threads, 0);
  check('runs', runs, 1);
  check('warmup', warmup, 0);
  const dir = await mkdtemp(join(tmpdir(), 'hwlat-kernels-'));
  try {
    const optimisedPath = join(dir, 'optimised.onnx');
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
      optimizedModelFilePath: optimisedPath,
      enableProfiling: true,
      profileFilePrefix: join(dir, 'profile'),
      // ORT warns that an NCHWc-optimised graph is hardware specific: known, and it is the point
      logSeverityLevel: 3,
    });
    try {
      const feeds = makeFeeds(session);
      for (let i = 0; i < warmup + runs; i++) {
        const out = await session.run(feeds);
        for (const name in out) out[name]?.dispose();
      }
    } finally {
      // onnxruntime-node writes the profile here and returns nothing: the file is found by prefix
      session.endProfiling();
      await session.release();
    }
    const files = (await readdir(dir)).filter((f) => f.startsWith('profile') && f.endsWith('.json'));
    if (files.length !== 1) throw new KernelProfileError(`expected one profile file in ${dir}, found ${files.length}`);
    const events = parseProfileJson(await readFile(join(dir, files[0] as string), 'utf8'));
    const optimised = new Uint8Array(await readFile(optimisedPath));
    return kernelsFromProfile(events, { optimised, source: bytes, warmup });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
