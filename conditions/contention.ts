import { quantile } from 'simple-statistics';

/**
 * What one interleaved round looked like, as the profiler saw it. Every figure is optional where a
 * runtime cannot give it (a browser has no CPU clock of its own process, no load average).
 */
export interface RoundSignals {
  /** the calibration network's warm time this round, ms */
  calibrationMs: number | null;
  /** each anchor network's warm time this round, ms, by space */
  anchorMs: Readonly<Record<string, number>>;
  /** each measured model's time this round over its median of the earlier rounds (NaN: no history yet) */
  slowdowns: readonly number[];
  /** the round's elapsed time, ms */
  wallMs: number;
  /** CPU time the process got during the round, ms (Node: process.cpuUsage); null where unknown */
  cpuMs: number | null;
  /** the latest a 0 ms timer fired during the round, ms late; null where not measured */
  timerLagMs: number | null;
  /** the share of the machine's CPU time a hypervisor stole during the round (Linux /proc/stat); null where unknown */
  stealFraction: number | null;
}

export interface RoundJudgement {
  disturbed: boolean;
  /** short phrases, one per signal that fired */
  reasons: string[];
}

export interface ContentionOptions {
  /** a calibration, anchor or model figure this far above its baseline marks the round (default 0.25) */
  tolerance?: number;
  /** a CPU share this far below its usual level marks the round (default 0.2) */
  cpuShareDrop?: number;
  /** a 0 ms timer this late marks the round (default 40 ms: the process was not scheduled) */
  timerLagMs?: number;
  /** a steal share above this marks the round (default 0.1) */
  stealFraction?: number;
  /** how many recent figures a baseline is taken over (default 64) */
  window?: number;
}

/** fewer figures than this make no baseline yet */
const MIN_BASELINE = 4;
/** the models' common slowdown is judged over at least this many models */
const MIN_SPREAD_MODELS = 6;
/** the device counts as persistently disturbed when this share of its recent rounds were */
const PERSISTENT_SHARE = 0.8;
/** … over this many recent rounds */
const PERSISTENT_WINDOW = 40;

/** A recent-figures window and its quantile: the baseline a new figure is compared with. */
class Baseline {
  readonly #values: number[] = [];
  constructor(readonly window: number, readonly q: number) {}
  add(x: number): void {
    if (!(Number.isFinite(x) && x > 0)) return;
    this.#values.push(x);
    if (this.#values.length > this.window) this.#values.shift();
  }
  get value(): number | null {
    return this.#values.length >= MIN_BASELINE ? quantile(this.#values, this.q) : null;
  }
}

/** Tally of one kind of signal over a group's rounds, for the measurement's evidence. */
interface Tally {
  rounds: number;
  low: number;
  high: number;
}

/**
 * Decides, round by round, whether other work on the device disturbed a measurement. A round is
 * disturbed when any of its figures says so:
 * - the calibration network (or a space's anchor network) ran slower than its baseline by more
 *   than the tolerance. The baseline is a low quantile (20th percentile) of its recent figures,
 *   all rounds included: under intermittent load the quiet rounds set it, and a device that stays
 *   slower for long (a throttled board) moves it within a window;
 * - the process got a smaller share of the CPU than it usually does while running (another
 *   process took the cores: one preempted run hides in a robust median, a starved round does not);
 * - the models of the round ran slower than their own medians, together (the group's spread);
 * - a 0 ms timer fired very late (the process was not scheduled at all), or a hypervisor stole CPU.
 *
 * Runtime-neutral: the profiler feeds it whatever its runtime can measure.
 *
 * @example
 * const detector = new ContentionDetector();
 * detector.startGroup();
 * const { disturbed, reasons } = detector.judge({ calibrationMs: 1.9, anchorMs: {}, slowdowns: [], wallMs: 40, cpuMs: 21, timerLagMs: 1, stealFraction: null });
 * detector.evidence(); // ['calibration 1.9× its baseline in 1 of 1 rounds', …]
 */
export class ContentionDetector {
  readonly #tolerance: number;
  readonly #cpuDrop: number;
  readonly #lagMs: number;
  readonly #steal: number;
  readonly #window: number;
  readonly #calibration: Baseline;
  readonly #anchors = new Map<string, Baseline>();
  /** the usual CPU share while measuring: a high quantile (80th percentile) of recent rounds */
  readonly #cpuShare: Baseline;
  /** … and of this group's rounds: with several intra-op threads the share depends on the models */
  #groupCpuShare: Baseline;
  #rounds = 0;
  #tallies = new Map<string, Tally>();
  /** the device's recent rounds, disturbed (1) or not (0) */
  readonly #recent: number[] = [];

  constructor(options: ContentionOptions = {}) {
    const num = (name: keyof ContentionOptions, v: number | undefined, d: number, lo: number, hi: number) => {
      if (v === undefined) return d;
      if (typeof v !== 'number' || !(v > lo && v <= hi)) throw new RangeError(`'${name}' must be a number in (${lo}, ${hi}], got ${String(v)}`);
      return v;
    };
    this.#tolerance = num('tolerance', options.tolerance, 0.25, 0, 10);
    this.#cpuDrop = num('cpuShareDrop', options.cpuShareDrop, 0.2, 0, 1);
    this.#lagMs = num('timerLagMs', options.timerLagMs, 40, 0, 60_000);
    this.#steal = num('stealFraction', options.stealFraction, 0.1, 0, 1);
    this.#window = Math.round(num('window', options.window, 64, MIN_BASELINE - 1, 100_000));
    this.#calibration = new Baseline(this.#window, 0.2);
    this.#cpuShare = new Baseline(this.#window, 0.8);
    this.#groupCpuShare = new Baseline(this.#window, 0.8);
  }

  /** A calibration figure seen outside the rounds (warm-up runs): helps the baseline start. */
  observeCalibration(ms: number): void {
    this.#calibration.add(ms);
  }

  /** Starts a new group's evidence (baselines carry over: they are the device's, not the group's). */
  startGroup(): void {
    this.#rounds = 0;
    this.#tallies = new Map();
    this.#groupCpuShare = new Baseline(this.#window, 0.8);
  }

  #note(kind: string, value: number): void {
    const t = this.#tallies.get(kind);
    if (t) {
      t.rounds++;
      t.low = Math.min(t.low, value);
      t.high = Math.max(t.high, value);
    } else this.#tallies.set(kind, { rounds: 1, low: value, high: value });
  }

  judge(s: RoundSignals): RoundJudgement {
    this.#rounds++;
    const reasons: string[] = [];
    const limit = 1 + this.#tolerance;

    const cal = this.#calibration.value;
    if (s.calibrationMs !== null && cal !== null && s.calibrationMs > cal * limit) {
      const r = s.calibrationMs / cal;
      reasons.push(`calibration ${r.toFixed(2)}× its baseline`);
      this.#note('calibration', r);
    }
    for (const [space, ms] of Object.entries(s.anchorMs)) {
      let b = this.#anchors.get(space);
      if (!b) this.#anchors.set(space, (b = new Baseline(this.#window, 0.2)));
      const base = b.value;
      if (base !== null && ms > base * limit) {
        const r = ms / base;
        reasons.push(`${space} anchor ${r.toFixed(2)}× its baseline`);
        this.#note('anchor', r);
      }
      b.add(ms);
    }
    if (s.calibrationMs !== null) this.#calibration.add(s.calibrationMs);

    // the group's spread says something only over enough models: 4 tiny ops of one lease swing
    // together by timer noise alone (an idle machine flagged half its op rounds at 3 models)
    const known = s.slowdowns.filter((x) => Number.isFinite(x) && x > 0);
    if (known.length >= MIN_SPREAD_MODELS) {
      const med = quantile(known, 0.5);
      if (med > 1 + 2 * this.#tolerance) {
        reasons.push(`models ${med.toFixed(2)}× their medians`);
        this.#note('spread', med);
      }
    }

    if (s.cpuMs !== null && s.wallMs > 0) {
      const share = s.cpuMs / s.wallMs;
      // a multi-threaded session's share depends on the models (small ops leave its threads idle),
      // so the group's own level counts, but never below 3/4 of the device's usual level: a
      // group measured under load from its first round must not set its own bar
      const device = this.#cpuShare.value;
      const group = this.#groupCpuShare.value;
      const usual = device === null ? group : Math.max(group ?? 0, 0.75 * device);
      if (usual !== null && share < usual * (1 - this.#cpuDrop)) {
        reasons.push(`CPU share ${share.toFixed(2)} of its usual ${usual.toFixed(2)}`);
        this.#note('cpu', share / usual);
      }
      this.#cpuShare.add(share);
      this.#groupCpuShare.add(share);
    }
    if (s.timerLagMs !== null && s.timerLagMs > this.#lagMs) {
      reasons.push(`a timer fired ${Math.round(s.timerLagMs)} ms late`);
      this.#note('timer', s.timerLagMs);
    }
    if (s.stealFraction !== null && s.stealFraction > this.#steal) {
      reasons.push(`${Math.round(100 * s.stealFraction)}% CPU stolen`);
      this.#note('steal', s.stealFraction);
    }
    this.#recent.push(reasons.length > 0 ? 1 : 0);
    if (this.#recent.length > PERSISTENT_WINDOW) this.#recent.shift();
    return { disturbed: reasons.length > 0, reasons };
  }

  /**
   * Whether the device has been disturbed for a while (most of its last 40 rounds): waiting for
   * quiet rounds then only spends time, so the profiler gives a group a small budget and lets the
   * collector queue the job again for later.
   */
  get persistent(): boolean {
    return this.#recent.length >= PERSISTENT_WINDOW / 2 && this.#recent.reduce((a, b) => a + b, 0) >= PERSISTENT_SHARE * this.#recent.length;
  }

  /** The group's evidence so far, one phrase per kind of signal: "calibration 1.3–2.1× its baseline in 7 of 31 rounds". */
  evidence(): string[] {
    const range = (t: Tally, d: number, unit = '×') =>
      t.low === t.high ? `${t.low.toFixed(d)}${unit}` : `${t.low.toFixed(d)}–${t.high.toFixed(d)}${unit}`;
    const of = (t: Tally) => `in ${t.rounds} of ${this.#rounds} rounds`;
    const out: string[] = [];
    for (const [kind, t] of this.#tallies) {
      if (kind === 'calibration') out.push(`calibration ${range(t, 2)} its baseline ${of(t)}`);
      else if (kind === 'anchor') out.push(`anchor ${range(t, 2)} its baseline ${of(t)}`);
      else if (kind === 'spread') out.push(`models ${range(t, 2)} their medians ${of(t)}`);
      else if (kind === 'cpu') out.push(`CPU share ${range(t, 2)} of usual ${of(t)}`);
      else if (kind === 'timer') out.push(`timers up to ${Math.round(t.high)} ms late ${of(t)}`);
      else if (kind === 'steal') out.push(`up to ${Math.round(100 * t.high)}% CPU stolen ${of(t)}`);
    }
    return out;
  }
}

/**
 * A warning when the threads asked for exceed the cores that are free: ONNX Runtime's intra-op
 * threads spin while they wait, so a session with more threads than free cores collapses (a
 * 2-thread session on a busy 2-core machine measured 10× its quiet latency). Null when it fits.
 *
 * @example
 * threadWarning({ threads: 2, cores: 2, loadAverage: 3.1 }); // '2 threads but ~0 of 2 cores free (load average 3.1): …'
 */
export function threadWarning(o: { threads: number; cores: number; loadAverage: number | null }): string | null {
  if (!(o.threads >= 1 && o.cores >= 1)) return null;
  const free = o.loadAverage === null ? o.cores : Math.max(0, o.cores - o.loadAverage);
  if (o.threads <= o.cores && o.threads <= Math.max(1, Math.round(free))) return null;
  const load = o.loadAverage === null ? '' : ` (load average ${o.loadAverage.toFixed(1)})`;
  return `${o.threads} threads but ~${Math.round(free)} of ${o.cores} cores free${load}: ONNX Runtime's spinning threads collapse when oversubscribed, so its figures will be disturbed; use fewer threads or a quieter machine`;
}
