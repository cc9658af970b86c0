import { buildOnnx, getSpace, lowerNetwork, lowerSpec, type OpSpec, type SearchSpace } from '../ops-library/index.ts';
import type { Measurement, MeasurementLevel } from '../protocol/index.ts';
import { anchorModel } from './anchors.ts';
import type { LoadedModel, RuntimeBackend } from './backends/types.ts';
import { measureInterleaved } from './harness/harness.ts';
import type { ModelResult } from './harness/types.ts';
import { robustStats } from './harness/stats.ts';
import { randomId } from './ids.ts';

/**
 * The calibration workload, measured once in every interleaved round so each measurement carries
 * its pass's speed and passes can be normalised. It is a small real network (FBNet CIFAR, every
 * layer k3_e1, ~0.8 ms on one core) rather than a single conv: a lone conv lives in L2 and did not
 * follow the machine's speed changes that networks see (docs/benchmarks.md, reproducibility).
 */
export const CALIBRATION_NETWORK = Object.freeze({ space: 'fbnet', arch: Array(22).fill('k3_e1').join('-') });
export const CALIBRATION_KEY = `network:${CALIBRATION_NETWORK.space}:${CALIBRATION_NETWORK.arch}`;

export function calibrationModel(): Uint8Array {
  return buildOnnx(lowerNetwork(getSpace(CALIBRATION_NETWORK.space).expand(CALIBRATION_NETWORK.arch)), { batch: 1 });
}

/** One model to profile: an op-level unit (with its spec) or a network (its arch string). */
export interface ProfileItem {
  level: MeasurementLevel;
  space: string | null;
  /** canonical layer key (op level) or architecture string (network level) */
  key: string;
  spec?: OpSpec;
  /** builds the ONNX bytes when the item's group is loaded */
  model(batch: number): Uint8Array;
}

/** Items for every unit spec (op level), keyed by their canonical key. */
export function opItems(space: string | null, units: Iterable<[string, OpSpec]>): ProfileItem[] {
  return [...units].map(([key, spec]) => ({
    level: 'op',
    space,
    key,
    spec,
    model: (batch) => buildOnnx(lowerSpec(spec), { batch }),
  }));
}

/** Items for whole networks of a space (network level). */
export function networkItems(space: SearchSpace, archs: readonly string[]): ProfileItem[] {
  return archs.map((arch) => ({
    level: 'network',
    space: space.name,
    key: space.format(space.parse(arch)),
    model: (batch) => buildOnnx(lowerNetwork(space.expand(arch)), { batch }),
  }));
}

export interface ProfileOptions {
  backend: RuntimeBackend;
  deviceId: string;
  passId: string;
  batch?: number;
  warmup?: number;
  minRepeats?: number;
  minTimeMs?: number;
  maxRepeats?: number;
  /** models loaded and measured together in interleaved rounds (default 12) */
  groupSize?: number;
  /**
   * measure each network space's anchor network (anchors.ts) in every round of a group holding
   * that space's networks, and give the group's network measurements its median as `anchorMs`
   * (default true; op-level groups never get one)
   */
  anchors?: boolean;
  /** re-measure a model whose coefficient of variation exceeds this (default 0.3) */
  maxCv?: number;
  /** at most this many re-measurements of noisy models per group (default 2) */
  noisyRetries?: number;
  onProgress?: (done: number, total: number, note: string) => void;
  /** called with each group's measurements as soon as they exist (store them there) */
  onMeasurements?: (measurements: Measurement[]) => void | Promise<void>;
}

export interface ProfileResult {
  measurements: Measurement[];
  /** median of every calibration run of the pass */
  calibrationMs: number | null;
  /** per-round calibration times, in order */
  calibrationTrace: number[];
}

/**
 * Measures items in groups; inside a group every round visits every model and the calibration
 * workload, so drift hits all alike. Each measurement carries its group's calibration median, and
 * each network measurement of a space with an anchor network its group's anchor median.
 *
 * @example
 * const backend = await createBackend('ort-node', { threads: 1 });
 * const items = networkItems(getSpace('fbnet'), sampleArchs(getSpace('fbnet'), { count: 4 }));
 * const { measurements } = await profileItems(items, { backend, deviceId, passId });
 */
export async function profileItems(items: readonly ProfileItem[], options: ProfileOptions): Promise<ProfileResult> {
  const batch = options.batch ?? 1;
  const groupSize = options.groupSize ?? 12;
  const maxCv = options.maxCv ?? 0.3;
  const maxRetries = options.noisyRetries ?? 2;
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new RangeError(`'groupSize' must be an integer >= 1, got ${groupSize}`);
  const calibration = await options.backend.load(calibrationModel());
  const trace: number[] = [];
  const measurements: Measurement[] = [];
  try {
    for (let start = 0; start < items.length; start += groupSize) {
      const group = items.slice(start, start + groupSize);
      options.onProgress?.(start, items.length, `loading ${group.length} models`);
      const loaded: LoadedModel[] = [];
      try {
        for (const item of group) loaded.push(await options.backend.load(item.model(batch)));
        // the anchors of the group's network spaces, loaded after the items (their models
        // dispose with the group's)
        const anchorOf = new Map<string, number>();
        if (options.anchors ?? true) {
          for (const item of group) {
            if (item.level !== 'network' || item.space === null || anchorOf.has(item.space)) continue;
            const bytes = anchorModel(item.space, batch);
            if (bytes === null) continue;
            anchorOf.set(item.space, loaded.length);
            loaded.push(await options.backend.load(bytes));
          }
        }
        const anchorSlots = [...anchorOf.values()];
        const note = `measuring ${group[0]?.level} ${start + 1}-${start + group.length}`;
        const measure = async (which: number[]) => {
          // every measurement, a re-measurement of noisy models too, runs with its anchors
          const slots = [...which, ...anchorSlots];
          const res = await measureInterleaved(slots.map((i) => loaded[i] as LoadedModel), {
            warmup: options.warmup,
            minRepeats: options.minRepeats,
            minTimeMs: options.minTimeMs,
            maxRepeats: options.maxRepeats,
            calibration,
            onRound: () => options.onProgress?.(start, items.length, note),
          });
          if (res.calibration) trace.push(...res.calibration.trace);
          const anchorMs = (i: number): number | null => {
            const item = group[i] as ProfileItem;
            const slot = item.level === 'network' && item.space !== null ? anchorOf.get(item.space) : undefined;
            const median = slot === undefined ? undefined : res.results[slots.indexOf(slot)]?.stats.median;
            return median !== undefined && median > 0 ? median : null;
          };
          return which.map((i, j) => ({ i, result: res.results[j] as ModelResult, calibrationMs: res.calibration?.stats.median ?? null, anchorMs: anchorMs(i) }));
        };
        const best = await measure(group.map((_, i) => i));
        // a shared machine has bursts of contention: re-measure the models whose runs scattered
        // (cv above maxCv) and keep each model's steadiest measurement
        for (let retry = 0; retry < maxRetries; retry++) {
          const noisy = best.filter((b) => b.result.stats.cv > maxCv).map((b) => b.i);
          if (noisy.length === 0) break;
          for (const again of await measure(noisy)) {
            if (again.result.stats.cv < (best[again.i] as (typeof best)[number]).result.stats.cv) best[again.i] = again;
          }
        }
        const now = new Date().toISOString();
        const batchOut = group.map((item, i): Measurement => {
          const { result: r, calibrationMs, anchorMs } = best[i] as (typeof best)[number];
          const m: Measurement = {
            id: randomId(),
            deviceId: options.deviceId,
            passId: options.passId,
            level: item.level,
            space: item.space,
            key: item.key,
            spec: item.spec ?? null,
            batch,
            warmup: options.warmup ?? 3,
            stats: r.stats,
            wallMs: r.wallMs,
            calibrationMs,
            createdAt: now,
          };
          if (anchorMs !== null) m.anchorMs = anchorMs;
          return m;
        });
        measurements.push(...batchOut);
        await options.onMeasurements?.(batchOut);
      } finally {
        await Promise.all(loaded.map((m) => m.dispose()));
      }
      options.onProgress?.(Math.min(start + groupSize, items.length), items.length, '');
    }
  } finally {
    await calibration.dispose();
  }
  return { measurements, calibrationMs: trace.length > 0 ? robustStats(trace).median : null, calibrationTrace: trace };
}
