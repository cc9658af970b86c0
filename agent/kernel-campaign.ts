import { calibrationModel } from '../conditions/index.ts';
import { SAMPLE_GRAPH_VERSION, sampleGraph, type CampaignSample } from '../ops-library/index.ts';
import type { KernelProfileRecord } from '../protocol/index.ts';
import { randomId } from './ids.ts';
import type { RuntimeBackend } from './backends/types.ts';
import type { KernelProfiler } from './kernel-profile.ts';

export interface KernelCampaignOptions {
  /** the configurations, in order (ops-library `kernelCampaign()`) */
  samples: readonly CampaignSample[];
  profiler: KernelProfiler;
  deviceId: string;
  /** each profile as it is made: store it here (a throw stops the campaign) */
  onProfile: (record: KernelProfileRecord) => void | Promise<void>;
  /** no configuration is started after this many ms from the start */
  budgetMs?: number;
  /**
   * the calibration workload's latency now (ms), measured at the start and every
   * `calibrateEveryMs`; each profile carries the latest, so profiles of a long campaign can be
   * normalised for drift like measurements
   */
  calibrate?: () => Promise<number>;
  /** default 60 s */
  calibrateEveryMs?: number;
  onProgress?: (done: number, total: number, key: string) => void;
  signal?: AbortSignal;
}

export interface KernelCampaignResult {
  /** profiles made (and handed to onProfile) */
  profiled: number;
  /** configurations the runtime refused, with why */
  failed: Array<{ key: string; error: string }>;
  /** configurations not started: the budget ran out or the signal aborted */
  skipped: number;
  elapsedMs: number;
  calibrationTrace: number[];
}

/**
 * Runs a kernel-sampling campaign: each configuration is built as its small ONNX graph
 * (ops-library `sampleGraph`) and profiled like a network (the runtime's optimised graph and
 * profiler), so every kernel the runtime runs for it — the conv with its fused activation and
 * sum, the layout reorders around it — is timed in context. Profiles go to `onProfile` one by
 * one, so a campaign cut short keeps what it measured. A configuration that fails is recorded
 * and skipped.
 *
 * @example
 * const profiler = kernelProfilerFor(backend.info)!;
 * const r = await runKernelCampaign({ samples: kernelCampaign().slice(0, 50), profiler, deviceId, onProfile: (p) => store.insertKernelProfiles([p]) });
 */
export async function runKernelCampaign(o: KernelCampaignOptions): Promise<KernelCampaignResult> {
  if (!Array.isArray(o.samples)) throw new TypeError(`'samples' must be an array of campaign samples`);
  if (o.budgetMs !== undefined && !(o.budgetMs > 0)) throw new RangeError(`'budgetMs' must be > 0, got ${o.budgetMs}`);
  const start = performance.now();
  const every = o.calibrateEveryMs ?? 60_000;
  const trace: number[] = [];
  let calibratedAt = -Infinity;
  let calibrationMs: number | null = null;
  const failed: KernelCampaignResult['failed'] = [];
  let profiled = 0;
  let i = 0;
  for (; i < o.samples.length; i++) {
    const now = performance.now();
    if (o.signal?.aborted || (o.budgetMs !== undefined && now - start >= o.budgetMs)) break;
    if (o.calibrate && now - calibratedAt >= every) {
      calibrationMs = await o.calibrate();
      trace.push(calibrationMs);
      calibratedAt = performance.now();
    }
    const s = o.samples[i] as CampaignSample;
    let p: Awaited<ReturnType<KernelProfiler['profile']>>;
    try {
      p = await o.profiler.profile(sampleGraph(s.sample));
    } catch (e) {
      // a configuration the runtime refuses is recorded and skipped; what onProfile refuses (the store) stops the campaign
      failed.push({ key: s.key, error: (e as Error).message });
      o.onProgress?.(i + 1, o.samples.length, s.key);
      continue;
    }
    await o.onProfile({
      id: `ks-${randomId()}`, deviceId: o.deviceId, source: 'sample', measurementId: null, space: null, key: s.key, spec: { ...s.sample, graph: SAMPLE_GRAPH_VERSION }, batch: 1,
      calibrationMs: calibrationMs !== null && calibrationMs > 0 ? calibrationMs : null,
      profile: { runs: p.runs, warmup: p.warmup, runMs: p.runMs, kernelSumMs: p.kernelSumMs, kernels: p.kernels },
      createdAt: new Date().toISOString(),
    });
    profiled++;
    o.onProgress?.(i + 1, o.samples.length, s.key);
  }
  return { profiled, failed, skipped: o.samples.length - i, elapsedMs: performance.now() - start, calibrationTrace: trace };
}

/**
 * A clock of the device's speed for a campaign: the calibration network (conditions/networks.ts)
 * loaded once on `backend`, each reading the median of `runs` consecutive warm runs (ms).
 */
export async function calibrationClock(backend: RuntimeBackend, runs = 10): Promise<{ measure: () => Promise<number>; dispose: () => Promise<void> }> {
  const model = await backend.load(calibrationModel());
  return {
    measure: async () => {
      for (let i = 0; i < 2; i++) await model.run();
      const xs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await model.run();
        xs.push((performance.now() - t0) / (model.runsPerSample ?? 1));
      }
      xs.sort((a, b) => a - b);
      return xs[xs.length >> 1] as number;
    },
    dispose: () => model.dispose(),
  };
}
