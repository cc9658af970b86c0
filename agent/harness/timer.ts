/**
 * Clock resolution and how many inferences one timed sample needs. Runtime-agnostic.
 *
 * Browsers coarsen `performance.now()` against timing side channels: Chromium rounds to 100 µs
 * (5 µs when the page is cross-origin isolated, which the collector's /agent page asks for with
 * COOP/COEP headers), Firefox to 1 ms unless isolated (then 20 µs), Safari to 1 ms; some add jitter.
 * Node's clock ticks in well under 1 µs. A 30 µs operator timed alone on a 100 µs clock reads
 * 0 or 100 µs, so the agent times `runsPerSample` back-to-back inferences per sample and divides.
 */

/**
 * The smallest positive step of performance.now() seen in up to `maxMs` of polling (default 20 ms,
 * stopping early after 50 steps). A coarse clock shows its grain; a fine one reports ~its call cost.
 *
 * @example
 * timerResolutionMs(); // 0.0001 in Node, 0.1 in a non-isolated Chromium page
 */
export function timerResolutionMs(maxMs = 20): number {
  if (!Number.isFinite(maxMs) || maxMs <= 0) throw new RangeError(`'maxMs' must be a finite number > 0, got ${maxMs}`);
  const start = performance.now();
  let last = start;
  let best = Infinity;
  let steps = 0;
  while (steps < 50) {
    const now = performance.now();
    if (now > last) {
      best = Math.min(best, now - last);
      last = now;
      steps++;
    }
    if (now - start > maxMs) break;
  }
  return Number.isFinite(best) ? best : maxMs;
}

export interface RunsPerSampleOptions {
  /** largest rounding error of one sample relative to its value (default 0.01 = 1%) */
  maxRelError?: number;
  /** upper bound on inferences per sample (default 1000) */
  max?: number;
}

/**
 * Inferences per timed sample so that the clock's rounding (up to one tick) is at most
 * `maxRelError` of the sample: ceil(resolution / (maxRelError · oneRunMs)), at least 1.
 *
 * @example
 * runsPerSampleFor(0.03, 0.1);   // 334: a 30 µs op on a 100 µs clock
 * runsPerSampleFor(5, 0.0001);   // 1
 */
export function runsPerSampleFor(oneRunMs: number, resolutionMs: number, options: RunsPerSampleOptions = {}): number {
  if (!Number.isFinite(oneRunMs) || oneRunMs < 0) throw new RangeError(`'oneRunMs' must be a finite number >= 0, got ${oneRunMs}`);
  if (!Number.isFinite(resolutionMs) || resolutionMs < 0) throw new RangeError(`'resolutionMs' must be a finite number >= 0, got ${resolutionMs}`);
  const maxRelError = options.maxRelError ?? 0.01;
  const max = options.max ?? 1000;
  if (!(maxRelError > 0)) throw new RangeError(`'maxRelError' must be > 0, got ${maxRelError}`);
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`'max' must be an integer >= 1, got ${max}`);
  if (resolutionMs === 0) return 1;
  const need = oneRunMs > 0 ? Math.ceil(resolutionMs / (maxRelError * oneRunMs)) : max;
  return Math.min(max, Math.max(1, need));
}
