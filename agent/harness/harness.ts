import type { LoadedModel } from '../backends/types.ts';
import type { InterleavedResult, MeasureOptions, ModelResult, RoundMonitor } from './types.ts';
import { robustStats } from './stats.ts';

interface Settings {
  warmup: number;
  minRepeats: number;
  minTimeMs: number;
  maxRepeats: number;
  burst: number;
  burstMs: number;
  calibration: LoadedModel | null;
  monitor: RoundMonitor | null;
  maxDiscardedRounds: number;
  backoffMs: number;
  onRound: ((done: number, estimatedTotal: number) => void) | null;
}

function isModel(m: unknown): m is LoadedModel {
  return typeof m === 'object' && m !== null && typeof (m as LoadedModel).run === 'function';
}

function intAtLeast(name: string, value: unknown, fallback: number, least: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`'${name}' must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < least) {
    throw new RangeError(`'${name}' must be ${Number.isInteger(value) ? '' : 'an integer '}>= ${least}, got ${value}`);
  }
  return value;
}

function validate(models: unknown, options: MeasureOptions): Settings {
  if (!Array.isArray(models)) throw new TypeError(`'models' must be an array of loaded models, got ${typeof models}`);
  if (models.length === 0) throw new RangeError(`'models' must hold at least 1 model, got 0`);
  const badModel = models.findIndex((m) => !isModel(m));
  if (badModel >= 0) throw new TypeError(`'models[${badModel}]' must be a loaded model with run()`);
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`'options' must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const warmup = intAtLeast('warmup', options.warmup, 3, 0);
  const minRepeats = intAtLeast('minRepeats', options.minRepeats, 10, 1);
  const maxRepeats = intAtLeast('maxRepeats', options.maxRepeats, Math.max(1000, minRepeats), 1);
  if (maxRepeats < minRepeats) {
    throw new RangeError(`'maxRepeats' must be >= 'minRepeats' (${minRepeats}), got ${maxRepeats}`);
  }
  const minTimeMs = options.minTimeMs ?? 200;
  if (typeof minTimeMs !== 'number' || !Number.isFinite(minTimeMs) || minTimeMs < 0) {
    throw new RangeError(`'minTimeMs' must be a finite number >= 0, got ${String(minTimeMs)}`);
  }
  if (options.calibration !== undefined && !isModel(options.calibration)) {
    throw new TypeError(`'calibration' must be a loaded model with run()`);
  }
  if (options.onRound !== undefined && typeof options.onRound !== 'function') {
    throw new TypeError(`'onRound' must be a function, got ${typeof options.onRound}`);
  }
  const burst = intAtLeast('burst', options.burst, 8, 1);
  const burstMs = options.burstMs ?? 0;
  if (typeof burstMs !== 'number' || !Number.isFinite(burstMs) || burstMs < 0) {
    throw new RangeError(`'burstMs' must be a finite number >= 0, got ${String(burstMs)}`);
  }
  const monitor = options.monitor ?? null;
  if (monitor !== null && (typeof monitor !== 'object' || typeof monitor.begin !== 'function' || typeof monitor.end !== 'function')) {
    throw new TypeError(`'monitor' must be an object with begin() and end()`);
  }
  const maxDiscardedRounds = intAtLeast('maxDiscardedRounds', options.maxDiscardedRounds, Math.max(10, minRepeats), 0);
  const backoffMs = options.backoffMs ?? 5;
  if (typeof backoffMs !== 'number' || !Number.isFinite(backoffMs) || backoffMs < 0) {
    throw new RangeError(`'backoffMs' must be a finite number >= 0, got ${String(backoffMs)}`);
  }
  return {
    warmup, minRepeats, minTimeMs, maxRepeats, burst, burstMs, calibration: options.calibration ?? null, monitor, maxDiscardedRounds, backoffMs,
    onRound: options.onRound ?? null,
  };
}

/**
 * One timed run() in ms: `sample` is the time of one inference (a run() spanning `runsPerSample`
 * inferences is divided by that count), `elapsed` the clock time the call took. Time budgets
 * (minTimeMs, wallMs) count elapsed time, so a model run many times per sample does not take
 * `runsPerSample` times longer to measure.
 */
async function timed(model: LoadedModel): Promise<{ sample: number; elapsed: number }> {
  const t0 = performance.now();
  await model.run();
  const elapsed = performance.now() - t0;
  return { sample: elapsed / (model.runsPerSample ?? 1), elapsed };
}

/**
 * One burst of a model: `burst` runs back to back. The first run's sample is the cold figure (the
 * caches hold another model's data). The warm figure is the mean of the burst's second half:
 * consecutive runs keep getting faster for several runs after a switch of model (FBNet CIFAR
 * networks here: the mean of runs 2–3 was 11% above a 40-run consecutive median, of runs 6–10
 * 2.6%; docs/benchmarks.md, warm latency). With burst 1 the only run is both.
 */
async function timedBurst(model: LoadedModel, burst: number): Promise<{ cold: number; warm: number; elapsed: number }> {
  const first = await timed(model);
  if (burst === 1) return { cold: first.sample, warm: first.sample, elapsed: first.elapsed };
  const from = Math.max(1, Math.floor(burst / 2));
  let sum = 0;
  let elapsed = first.elapsed;
  for (let b = 1; b < burst; b++) {
    const t = await timed(model);
    if (b >= from) sum += t.sample;
    elapsed += t.elapsed;
  }
  return { cold: first.sample, warm: sum / (burst - from), elapsed };
}

/** the longest burst a tiny model gets (MeasureOptions.burstMs) */
export const MAX_BURST = 128;

/** A model's burst: `burst` runs, or more for a model whose fastest warm-up run says a burst would last under `burstMs`. */
function burstFor(s: Settings, fastestMs: number): number {
  if (s.burst === 1 || s.burstMs === 0 || !(fastestMs > 0)) return s.burst;
  return Math.min(MAX_BURST, Math.max(s.burst, Math.ceil(s.burstMs / fastestMs)));
}

/** Longest stretch of measuring without giving the event loop a turn. */
const YIELD_EVERY_MS = 50;

/**
 * Lets timers, sockets and rendering run. onnxruntime-web's wasm runs inside run() and resolves
 * through microtasks only, so a page measuring back to back never reaches its event loop: no
 * heartbeats, no acks, a frozen page. Called between timed runs, never inside one.
 */
function yieldToEventLoop(): Promise<number> {
  // a plain task, not scheduler.yield(): Chromium runs yield() continuations ahead of other tasks,
  // which left the socket's messages waiting until the lease was measured. Resolves with how late
  // the timer fired: a process that was not scheduled at all shows here (and only here, in a browser).
  const t0 = performance.now();
  return new Promise((resolve) => setTimeout(() => resolve(performance.now() - t0), 0));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** rounds every model gets at least, whatever the burst: the robust statistics and the contention check need a few */
export const MIN_ROUNDS = 5;

/**
 * Rounds that give every model `runs` timed warm runs with bursts of `burst` (a burst's second half
 * is timed), at least MIN_ROUNDS. A job's `minRepeats` counts timed runs, as the field counts them;
 * counted as rounds, bursts of 8 made it 80 runs per model and doubled the demo's time.
 *
 * @example
 * roundsForRuns(10, 8); // 5: 4 warm runs a round, at least 5 rounds
 * roundsForRuns(10, 1); // 10
 */
export function roundsForRuns(runs: number, burst: number): number {
  const warmPerBurst = burst <= 1 ? 1 : burst - Math.floor(burst / 2);
  return Math.max(Math.min(MIN_ROUNDS, runs), Math.ceil(runs / warmPerBurst));
}

/** a back-off after disturbed rounds never waits longer than this */
const MAX_BACKOFF_MS = 500;

/** Rounds needed if every model keeps its mean so far: the fastest model needs the most runs to reach minTimeMs. */
function estimateRounds(s: Settings, done: number, totals: readonly number[]): number {
  let need = s.minRepeats;
  for (const total of totals) {
    const perRun = total / done;
    if (perRun > 0) need = Math.max(need, Math.ceil(s.minTimeMs / perRun));
  }
  return Math.max(done, Math.min(s.maxRepeats, need));
}

/**
 * Measures models in interleaved rounds: every round runs each model as a short warm burst
 * (MeasureOptions.burst), starting one model later each round so none is always first.
 * Interleaving spreads the machine's drift over all models alike: on this project's machines one
 * conv measured alone a minute apart moved 30%, measured in interleaved rounds 3%. The burst keeps
 * the caches warm as the field's latency assumes (the first run after another model cost +0.11–0.23
 * ms here, +30–45% on networks under 0.6 ms); that first run is kept as the `cold` statistic.
 * The calibration model, if given, runs once per round (as a burst) at a rotating slot; its trace
 * shows the drift so that passes can be normalised against each other.
 *
 * With a `monitor`, each round is judged when it ends: a disturbed round (another process took the
 * cores) is discarded and, after a back-off, run again. Once more than `maxDiscardedRounds` were
 * discarded, and more than were kept, the measurement stops: `cutShort` when it has minRepeats quiet
 * rounds (its figures from those), else `exhausted`, its figures from every round.
 *
 * Stops when every model has >= minRepeats quiet rounds and >= minTimeMs of run time, or at maxRepeats.
 *
 * @example
 * const backend = await createBackend('ort-node', { threads: 1 });
 * const a = await backend.load(probeModel());
 * const b = await backend.load(otherBytes);
 * const { results, calibration, rounds } = await measureInterleaved([a, b], { minTimeMs: 100 });
 * console.log(results[0].stats.median, results[0].cold?.median, results[1].stats.cv, rounds);
 */
export async function measureInterleaved(models: readonly LoadedModel[], options: MeasureOptions = {}): Promise<InterleavedResult> {
  const s = validate(models, options);
  const n = models.length;
  const wall = new Array<number>(n).fill(0);

  let lastYield = performance.now();
  let roundLag = 0;
  const maybeYield = async () => {
    if (performance.now() - lastYield < YIELD_EVERY_MS) return;
    roundLag = Math.max(roundLag, await yieldToEventLoop());
    lastYield = performance.now();
  };

  const fastest = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
  for (let i = 0; i < n; i++) {
    for (let w = 0; w < s.warmup; w++) {
      const t = await timed(models[i]!);
      wall[i]! += t.elapsed;
      fastest[i] = Math.min(fastest[i]!, t.elapsed);
      await maybeYield();
    }
  }
  const bursts = fastest.map((f) => burstFor(s, f));
  if (s.calibration) {
    for (let w = 0; w < s.warmup; w++) {
      await timed(s.calibration);
      await maybeYield();
    }
  }

  // kept (quiet) rounds, and the discarded ones for an exhausted measurement
  const samples: number[][] = models.map(() => []);
  const colds: number[][] = models.map(() => []);
  const totals = new Array<number>(n).fill(0);
  const trace: number[] = [];
  const noisy = { samples: models.map((): number[] => []), colds: models.map((): number[] => []), trace: [] as number[] };
  // The calibration model takes slot n of the rotation, so it too moves through the round.
  const slots = s.calibration ? n + 1 : n;
  let rounds = 0;
  let discarded = 0;
  let offset = -1;
  let lastSlot = -1;
  let streak = 0;
  let exhausted = false;
  let cutShort = false;

  const done = (): boolean =>
    rounds >= s.maxRepeats || (rounds >= s.minRepeats && totals.every((t) => t >= s.minTimeMs));

  while (!done()) {
    s.monitor?.begin();
    roundLag = 0;
    const t0 = performance.now();
    const round = new Array<number>(n).fill(Number.NaN);
    const roundCold = new Array<number>(n).fill(Number.NaN);
    const roundElapsed = new Array<number>(n).fill(0);
    let cal: { cold: number; warm: number } | null = null;
    // a round never starts with the model that ended the last one (with two slots, plain rotation
    // would: its first run would not be a cold one)
    offset++;
    if (slots > 1 && offset % slots === lastSlot) offset++;
    for (let k = 0; k < slots; k++) {
      const slot = (offset + k) % slots;
      lastSlot = slot;
      if (slot === n) {
        cal = await timedBurst(s.calibration!, s.burst);
        await maybeYield();
        continue;
      }
      const b = await timedBurst(models[slot]!, bursts[slot]!);
      round[slot] = b.warm;
      roundCold[slot] = b.cold;
      roundElapsed[slot] = b.elapsed;
      await maybeYield();
    }
    const wallMs = performance.now() - t0;
    for (let i = 0; i < n; i++) wall[i]! += roundElapsed[i]!;
    const verdict = s.monitor?.end({ samples: round, calibrationMs: cal?.warm ?? null, wallMs, timerLagMs: roundLag });
    if (verdict?.disturbed) {
      discarded++;
      streak++;
      for (let i = 0; i < n; i++) {
        noisy.samples[i]!.push(round[i]!);
        noisy.colds[i]!.push(roundCold[i]!);
      }
      if (cal) noisy.trace.push(cal.warm);
      // out of budget only when the disturbed rounds are also the majority: a long group of tiny
      // ops (100 rounds) losing one round in ten still gets its quiet rounds
      if (discarded > s.maxDiscardedRounds && discarded > rounds) {
        // the quiet rounds stand when there are as many as the measurement asked for: only its
        // minimum time was not reached (a busy device's quiet moments are short, not wrong)
        if (rounds >= s.minRepeats) cutShort = true;
        else exhausted = true;
        break;
      }
      // give the other work a moment to pass before measuring again: as long as the round took (a
      // round of tiny ops lasts a millisecond; a fixed 50 ms pause made such groups mostly sleep),
      // doubling while rounds stay disturbed
      await sleep(Math.min(MAX_BACKOFF_MS, Math.max(s.backoffMs, wallMs) * 2 ** (streak - 1)));
      lastYield = performance.now();
      continue;
    }
    streak = 0;
    for (let i = 0; i < n; i++) {
      samples[i]!.push(round[i]!);
      colds[i]!.push(roundCold[i]!);
      totals[i]! += roundElapsed[i]!;
    }
    if (cal) trace.push(cal.warm);
    rounds++;
    s.onRound?.(rounds, estimateRounds(s, rounds, totals));
  }

  const all = (kept: number[], thrown: number[]) => (exhausted ? [...kept, ...thrown] : kept);
  const results: ModelResult[] = samples.map((xs, i) => {
    const warm = all(xs, noisy.samples[i]!);
    const cold = all(colds[i]!, noisy.colds[i]!);
    return {
      stats: robustStats(warm),
      cold: s.burst > 1 ? robustStats(cold) : null,
      samples: warm,
      wallMs: wall[i]!,
    };
  });
  const calTrace = all(trace, noisy.trace);
  return {
    results,
    calibration: s.calibration && calTrace.length > 0 ? { stats: robustStats(calTrace), trace: calTrace } : null,
    rounds,
    discardedRounds: discarded,
    exhausted,
    cutShort,
  };
}

/**
 * Measures one model alone (one model per round): use measureInterleaved for batches, since a
 * batch measured alone model after model drifts apart.
 *
 * @example
 * const { stats } = await measureOne(model, { minRepeats: 20 });
 */
export async function measureOne(model: LoadedModel, options: Omit<MeasureOptions, 'calibration'> = {}): Promise<ModelResult> {
  const { results } = await measureInterleaved([model], { ...options, calibration: undefined });
  return results[0]!;
}
