import { randomUUID } from 'node:crypto';
import { kernelProfilerFor, type ProfileItem } from '../../agent/index.ts';
import type { Store } from '../../collector/index.ts';
import type { KernelProfileRecord, Measurement, RuntimeInfo } from '../../protocol/index.ts';

/** What `hwlat profile --kernels` reports about the kernels it stored. */
export interface KernelsSummary {
  /** kernel profiles stored: one per network measurement */
  profiles: number;
  /** timed kernels stored over all of them */
  kernels: number;
  /** median over the networks of Σ kernel medians / the profiled run: what the kernels cover of a run */
  medianCoverage: number | null;
  /** median over the networks of the profiled run / the network's measured latency: the profiler's own cost */
  medianProfilerOverhead: number | null;
  /** the ops seen, most time first: op, count, total ms */
  ops: Array<{ op: string; count: number; ms: number }>;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/**
 * `hwlat profile --kernels`: each network measured by this pass is run again with the runtime's
 * profiler on, and its kernels timed in context are stored beside its measurement (one kernel
 * profile per measurement, linked by id, carrying the measurement's calibration).
 */
export async function profileNetworkKernels(o: {
  store: Store;
  runtime: RuntimeInfo;
  measurements: readonly Measurement[];
  items: readonly ProfileItem[];
  batch: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<KernelsSummary> {
  const profiler = kernelProfilerFor(o.runtime);
  if (!profiler) throw new RangeError(`'--kernels' needs a backend whose profiler hwlat reads (ort-node, or ort-web:wasm); ${o.runtime.backend}:${o.runtime.provider} has none here`);
  const nets = o.measurements.filter((m) => m.level === 'network');
  const ops = new Map<string, { count: number; ms: number }>();
  const coverage: number[] = [];
  const overhead: number[] = [];
  let kernels = 0;
  let stored = 0;
  for (const [i, m] of nets.entries()) {
    const item = o.items.find((it) => it.level === 'network' && it.space === m.space && it.key === m.key);
    if (!item) throw new Error(`no model for network measurement '${m.key}'`);
    const p = await profiler.profile(item.model(o.batch));
    const record: KernelProfileRecord = {
      id: `kp-${randomUUID()}`, deviceId: m.deviceId, source: 'network', measurementId: m.id, space: m.space, key: m.key, batch: m.batch,
      calibrationMs: m.calibrationMs, profile: { runs: p.runs, warmup: p.warmup, runMs: p.runMs, kernelSumMs: p.kernelSumMs, kernels: p.kernels }, createdAt: new Date().toISOString(),
    };
    stored += (await o.store.insertKernelProfiles([record])).inserted;
    kernels += p.kernels.length;
    const sum = p.kernels.reduce((a, k) => a + k.ms, 0);
    if (p.runMs > 0) coverage.push(sum / p.runMs);
    if (m.stats.median > 0) overhead.push(p.runMs / m.stats.median);
    for (const k of p.kernels) {
      const e = ops.get(k.op) ?? { count: 0, ms: 0 };
      ops.set(k.op, { count: e.count + 1, ms: e.ms + k.ms });
    }
    o.onProgress?.(i + 1, nets.length);
  }
  return {
    profiles: stored,
    kernels,
    medianCoverage: median(coverage),
    medianProfilerOverhead: median(overhead),
    ops: [...ops].map(([op, e]) => ({ op, ...e })).sort((a, b) => b.ms - a.ms),
  };
}
