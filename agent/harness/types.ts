import type { LatencyStats } from '../../protocol/index.ts';
import type { LoadedModel } from '../backends/types.ts';

/** How long and how often the harness measures. */
export interface MeasureOptions {
  /** untimed runs per model (and of the calibration model) before the first round; default 3 */
  warmup?: number;
  /**
   * rounds (samples) every model gets at least; default 10. Each round's sample is a burst's warm
   * mean: callers that count timed runs convert with roundsForRuns()
   */
  minRepeats?: number;
  /** timed milliseconds every model accumulates at least (sum of its run times); default 200 */
  minTimeMs?: number;
  /** hard cap on rounds, and so on runs per model, even if minTimeMs is not reached; default 1000 */
  maxRepeats?: number;
  /**
   * runs of each model back to back in every round (default 8). The first pays the caches another
   * model left cold and is kept apart (`cold`); the mean of the second half is the round's sample,
   * timed as the field times latency (nn-Meter, TFLite's benchmark tool: consecutive runs after
   * warm-up). 1: every sample is a cold first run (and `cold` is null).
   */
  burst?: number;
  /**
   * a model faster than this per burst gets a longer burst, until it lasts about burstMs (at most
   * MAX_BURST runs; judged from its fastest warm-up run). Default 0: every burst is `burst` runs.
   * Rounds of tiny ops were mostly the calibration burst and the round's bookkeeping: 300 rounds of
   * 8 × 0.05 ms for 100 ms of measuring.
   */
  burstMs?: number;
  /** a fixed workload run once per round (as a burst too), so drift during the pass shows in its trace */
  calibration?: LoadedModel;
  /**
   * watches each round for contention: a round it calls disturbed is discarded and run again after
   * a back-off, while the budget of discarded rounds lasts
   */
  monitor?: RoundMonitor;
  /**
   * discarded rounds allowed before the measurement is given up as disturbed, once they are also
   * more than the rounds kept (default max(10, minRepeats))
   */
  maxDiscardedRounds?: number;
  /** first back-off after a disturbed round (at least the round's own time), doubling while rounds stay disturbed, at most 500 ms (default 5 ms) */
  backoffMs?: number;
  /** called after each round with rounds done and the current estimate of rounds in all */
  onRound?: (done: number, estimatedTotal: number) => void;
}

/** One round as the harness saw it, for a RoundMonitor. */
export interface RoundRecord {
  /** each model's sample this round (warm), ms, in the order the models were given */
  samples: readonly number[];
  /** the calibration model's sample this round, ms; null without one */
  calibrationMs: number | null;
  /** the round's elapsed time, ms (back-offs excluded) */
  wallMs: number;
  /** the longest a 0 ms timer waited past its time while yielding in this round, ms */
  timerLagMs: number;
}

/** Judges rounds while they are measured (conditions/contention.ts through the profiler). */
export interface RoundMonitor {
  /** called just before a round starts */
  begin(): void;
  /** called after the round: a disturbed round's samples are discarded */
  end(round: RoundRecord): { disturbed: boolean; reasons: readonly string[] };
}

/** One measured model. */
export interface ModelResult {
  /** warm latency: the burst's runs after the first (see MeasureOptions.burst) */
  stats: LatencyStats;
  /** the burst's first runs (cold caches); null with burst 1 */
  cold: LatencyStats | null;
  /** every timed run in milliseconds, in round order, outliers included */
  samples: number[];
  /** device time spent on this model: its warm-up runs plus its timed runs, in milliseconds */
  wallMs: number;
}

/** The calibration workload's record over one pass. */
export interface CalibrationResult {
  stats: LatencyStats;
  /** its time in each round, in milliseconds, in round order */
  trace: number[];
}

export interface InterleavedResult {
  /** in the order the models were given */
  results: ModelResult[];
  calibration: CalibrationResult | null;
  /** rounds kept (the samples come from these) */
  rounds: number;
  /** rounds the monitor called disturbed and that were discarded */
  discardedRounds: number;
  /**
   * the budget of discarded rounds ran out before enough quiet rounds: the figures then come from
   * every round, quiet or not, and the measurement is disturbed
   */
  exhausted: boolean;
  /**
   * the budget ran out after at least minRepeats quiet rounds, but before minTimeMs of them: the
   * figures come from the quiet rounds only, and the measurement stands (re-measured, not disturbed)
   */
  cutShort: boolean;
}
