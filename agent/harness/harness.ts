import type { LoadedModel } from '../backends/types.ts';
import type { InterleavedResult, MeasureOptions, ModelResult } from './types.ts';
import { robustStats } from './stats.ts';

interface Settings {
  warmup: number;
  minRepeats: number;
  minTimeMs: number;
  maxRepeats: number;
  calibration: LoadedModel | null;
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
  return { warmup, minRepeats, minTimeMs, maxRepeats, calibration: options.calibration ?? null, onRound: options.onRound ?? null };
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

/** Longest stretch of measuring without giving the event loop a turn. */
const YIELD_EVERY_MS = 50;

/**
 * Lets timers, sockets and rendering run. onnxruntime-web's wasm runs inside run() and resolves
 * through microtasks only, so a page measuring back to back never reaches its event loop: no
 * heartbeats, no acks, a frozen page. Called between timed runs, never inside one.
 */
function yieldToEventLoop(): Promise<void> {
  // a plain task, not scheduler.yield(): Chromium runs yield() continuations ahead of other tasks,
  // which left the socket's messages waiting until the lease was measured
  return new Promise((resolve) => setTimeout(resolve, 0));
}

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
 * Measures models in interleaved rounds: every round runs each model once, starting one model
 * later each round so none is always first (the first run after another model pays the cache
 * misses). Interleaving spreads the machine's drift over all models alike: on this project's
 * machines one conv measured alone a minute apart moved 30%, measured in interleaved rounds 3%.
 * The calibration model, if given, runs once per round at a rotating slot; its trace shows the
 * drift so that passes can be normalised against each other.
 * Stops when every model has >= minRepeats runs and >= minTimeMs of run time, or at maxRepeats.
 *
 * @example
 * const backend = await createBackend('ort-node', { threads: 1 });
 * const a = await backend.load(probeModel());
 * const b = await backend.load(otherBytes);
 * const { results, calibration, rounds } = await measureInterleaved([a, b], { minTimeMs: 100 });
 * console.log(results[0].stats.median, results[1].stats.cv, rounds);
 */
export async function measureInterleaved(models: readonly LoadedModel[], options: MeasureOptions = {}): Promise<InterleavedResult> {
  const s = validate(models, options);
  const n = models.length;
  const wall = new Array<number>(n).fill(0);

  let lastYield = performance.now();
  const maybeYield = async () => {
    if (performance.now() - lastYield < YIELD_EVERY_MS) return;
    await yieldToEventLoop();
    lastYield = performance.now();
  };

  for (let i = 0; i < n; i++) {
    for (let w = 0; w < s.warmup; w++) {
      wall[i]! += (await timed(models[i]!)).elapsed;
      await maybeYield();
    }
  }
  if (s.calibration) {
    for (let w = 0; w < s.warmup; w++) {
      await timed(s.calibration);
      await maybeYield();
    }
  }

  const samples: number[][] = models.map(() => []);
  const totals = new Array<number>(n).fill(0);
  const trace: number[] = [];
  // The calibration model takes slot n of the rotation, so it too moves through the round.
  const slots = s.calibration ? n + 1 : n;
  let rounds = 0;

  const done = (): boolean =>
    rounds >= s.maxRepeats || (rounds >= s.minRepeats && totals.every((t) => t >= s.minTimeMs));

  while (!done()) {
    for (let k = 0; k < slots; k++) {
      const slot = (rounds + k) % slots;
      if (slot === n) {
        trace.push((await timed(s.calibration!)).sample);
        await maybeYield();
        continue;
      }
      const { sample, elapsed } = await timed(models[slot]!);
      samples[slot]!.push(sample);
      totals[slot]! += elapsed;
      await maybeYield();
    }
    rounds++;
    s.onRound?.(rounds, estimateRounds(s, rounds, totals));
  }

  const results: ModelResult[] = samples.map((xs, i) => ({
    stats: robustStats(xs),
    samples: xs,
    wallMs: wall[i]! + totals[i]!,
  }));
  return {
    results,
    calibration: s.calibration ? { stats: robustStats(trace), trace } : null,
    rounds,
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
