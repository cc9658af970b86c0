import { calibrationModel, anchorModel, ContentionDetector, qualityOf } from '../conditions/index.ts';
import { networkOnnx, opOnnx, type OpSpec, type SearchSpace } from '../ops-library/index.ts';
import type { Measurement, MeasurementLevel, MeasurementQuality } from '../protocol/index.ts';
import type { LoadedModel, RuntimeBackend } from './backends/types.ts';
import { measureInterleaved, roundsForRuns } from './harness/harness.ts';
import type { InterleavedResult, ModelResult, RoundMonitor } from './harness/types.ts';
import { robustStats } from './harness/stats.ts';
import { randomId } from './ids.ts';
import { NO_PROBE, type ConditionProbe } from './probe.ts';

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
    model: (batch) => opOnnx(spec, { batch }),
  }));
}

/** Items for whole networks of a space (network level). */
export function networkItems(space: SearchSpace, archs: readonly string[]): ProfileItem[] {
  return archs.map((arch) => ({
    level: 'network',
    space: space.name,
    key: space.format(space.parse(arch)),
    model: (batch) => networkOnnx(space, arch, { batch }),
  }));
}

export interface ProfileOptions {
  backend: RuntimeBackend;
  deviceId: string;
  passId: string;
  batch?: number;
  warmup?: number;
  /** timed warm runs every model gets at least (default 10), as rounds of bursts: roundsForRuns() */
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
  /** runs per model per round, the first kept apart as the cold figure (harness MeasureOptions.burst, default 8) */
  burst?: number;
  /** a tiny model's burst grows until it lasts about this long (harness MeasureOptions.burstMs; default 2 ms) */
  burstMs?: number;
  /**
   * judges every round for contention (conditions/contention.ts); pass one detector to several
   * calls (an agent's leases) so its baselines are the device's. Default: a new one; null: no
   * contention check (every measurement is then `clean` as far as anyone can tell)
   */
  detector?: ContentionDetector | null;
  /** the OS's figures where the runtime has them (Node: nodeProbe()); default none */
  probe?: ConditionProbe;
  /** discarded rounds a group may spend before it is stored as disturbed (harness default) */
  maxDiscardedRounds?: number;
  /** back-off after a disturbed round, ms (harness default: the round's own time, at least 5, doubling) */
  backoffMs?: number;
  onProgress?: (done: number, total: number, note: string) => void;
  /** called with each group's measurements as soon as they exist (store them there) */
  onMeasurements?: (measurements: Measurement[]) => void | Promise<void>;
}

export interface ProfileResult {
  measurements: Measurement[];
  /** groups measured, and how many of them had rounds discarded or were stored disturbed */
  groups: { total: number; remeasured: number; disturbed: number };
  /** median of every calibration run of the pass */
  calibrationMs: number | null;
  /** per-round calibration times, in order */
  calibrationTrace: number[];
}

/** discarded rounds a group gets while the device is persistently disturbed (ContentionDetector.persistent) */
const PERSISTENT_BUDGET = 3;

/** The profiler's round monitor: the detector fed with the round's figures and the probe's. */
function roundMonitor(detector: ContentionDetector, probe: ConditionProbe, models: number, anchorSlots: ReadonlyMap<number, string>): RoundMonitor {
  const history: number[][] = Array.from({ length: models }, () => []);
  let cpu0: number | null = null;
  let steal0: { steal: number; total: number } | null = null;
  const slowdown = (i: number, x: number): number => {
    const h = history[i] as number[];
    if (h.length < 3) return Number.NaN;
    return x / (robustStats(h).median || Number.NaN);
  };
  return {
    begin() {
      cpu0 = probe.cpuMs();
      steal0 = probe.steal();
    },
    end(round) {
      const cpu1 = probe.cpuMs();
      const steal1 = probe.steal();
      const anchorMs: Record<string, number> = {};
      for (const [slot, space] of anchorSlots) anchorMs[space] = round.samples[slot] as number;
      const dTotal = steal0 && steal1 ? steal1.total - steal0.total : 0;
      const verdict = detector.judge({
        calibrationMs: round.calibrationMs,
        anchorMs,
        slowdowns: round.samples.map((x, i) => (anchorSlots.has(i) ? Number.NaN : slowdown(i, x))),
        wallMs: round.wallMs,
        cpuMs: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
        timerLagMs: round.timerLagMs,
        // a round shorter than a few clock ticks of /proc/stat says nothing about steal
        stealFraction: steal0 && steal1 && dTotal >= 20 ? (steal1.steal - steal0.steal) / dTotal : null,
      });
      if (!verdict.disturbed) round.samples.forEach((x, i) => (history[i] as number[]).push(x));
      return verdict;
    },
  };
}

/**
 * Measures items in groups; inside a group every round visits every model (a short warm burst
 * each) and the calibration workload, so drift hits all alike. Each measurement carries its
 * group's calibration median, each network measurement of a space with an anchor network its
 * group's anchor median, its cold first-run statistics, and its quality verdict: rounds that
 * contention disturbed are discarded and re-run after a back-off, and a group that cannot get
 * quiet rounds within its budget is stored `disturbed`, with the evidence.
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
  const detector = options.detector === undefined ? new ContentionDetector() : options.detector;
  const probe = options.probe ?? NO_PROBE;
  const groups = { total: 0, remeasured: 0, disturbed: 0 };
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
        detector?.startGroup();
        const measure = async (which: number[]) => {
          // every measurement, a re-measurement of noisy models too, runs with its anchors
          const slots = [...which, ...anchorSlots];
          const anchorAt = new Map([...anchorOf].map(([space, slot]) => [slots.indexOf(slot), space]));
          const res: InterleavedResult = await measureInterleaved(slots.map((i) => loaded[i] as LoadedModel), {
            warmup: options.warmup,
            minRepeats: roundsForRuns(options.minRepeats ?? 10, options.burst ?? 8),
            minTimeMs: options.minTimeMs,
            maxRepeats: options.maxRepeats,
            burst: options.burst,
            burstMs: options.burstMs ?? 2,
            calibration,
            ...(detector ? { monitor: roundMonitor(detector, probe, slots.length, anchorAt) } : {}),
            // a device disturbed for a while gets a small budget: its job is queued again for later
            maxDiscardedRounds: detector?.persistent ? Math.min(options.maxDiscardedRounds ?? PERSISTENT_BUDGET, PERSISTENT_BUDGET) : options.maxDiscardedRounds,
            backoffMs: options.backoffMs,
            onRound: () => options.onProgress?.(start, items.length, note),
          });
          if (res.calibration) trace.push(...res.calibration.trace);
          const anchorMs = (i: number): number | null => {
            const item = group[i] as ProfileItem;
            const slot = item.level === 'network' && item.space !== null ? anchorOf.get(item.space) : undefined;
            const median = slot === undefined ? undefined : res.results[slots.indexOf(slot)]?.stats.median;
            return median !== undefined && median > 0 ? median : null;
          };
          const rounds = { rounds: res.rounds, discardedRounds: res.discardedRounds, exhausted: res.exhausted };
          return which.map((i, j) => ({ i, result: res.results[j] as ModelResult, calibrationMs: res.calibration?.stats.median ?? null, anchorMs: anchorMs(i), rounds }));
        };
        const best = await measure(group.map((_, i) => i));
        // a shared machine has bursts of contention: re-measure the models whose runs scattered
        // (cv above maxCv) and keep each model's steadiest measurement
        // (a disturbed measurement is worse than any quiet one, whatever its cv)
        const worse = (a: (typeof best)[number], b: (typeof best)[number]) =>
          a.rounds.exhausted !== b.rounds.exhausted ? a.rounds.exhausted : a.result.stats.cv > b.result.stats.cv;
        for (let retry = 0; retry < maxRetries; retry++) {
          // (not the disturbed ones: they spent their budget; their jobs are queued again for later)
          const noisy = best.filter((b) => b.result.stats.cv > maxCv && !b.rounds.exhausted).map((b) => b.i);
          if (noisy.length === 0) break;
          for (const again of await measure(noisy)) {
            if (worse(best[again.i] as (typeof best)[number], again)) best[again.i] = again;
          }
        }
        const evidence = detector?.evidence() ?? [];
        const load = probe.loadAverage();
        const cores = probe.cores();
        if (evidence.length > 0 && load !== null) evidence.push(`load average ${load.toFixed(1)}${cores !== null ? ` on ${cores} cores` : ''}`);
        const qualities = best.map((b) => qualityOf({ ...b.rounds, evidence: b.rounds.discardedRounds > 0 ? evidence : [] }));
        groups.total++;
        if (qualities.some((q) => q.verdict === 'disturbed')) groups.disturbed++;
        else if (qualities.some((q) => q.verdict === 'remeasured')) groups.remeasured++;
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
            cold: r.cold,
            wallMs: r.wallMs,
            calibrationMs,
            quality: qualities[i] as MeasurementQuality,
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
  return { measurements, groups, calibrationMs: trace.length > 0 ? robustStats(trace).median : null, calibrationTrace: trace };
}
