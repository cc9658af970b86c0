import type { LatencyStats } from '../../protocol/index.ts';
import type { LoadedModel } from '../backends/types.ts';

/** How long and how often the harness measures. */
export interface MeasureOptions {
  /** untimed runs per model (and of the calibration model) before the first round; default 3 */
  warmup?: number;
  /** timed runs every model gets at least; default 10 */
  minRepeats?: number;
  /** timed milliseconds every model accumulates at least (sum of its run times); default 200 */
  minTimeMs?: number;
  /** hard cap on rounds, and so on runs per model, even if minTimeMs is not reached; default 1000 */
  maxRepeats?: number;
  /** a fixed workload run once per round, so drift during the pass shows in its trace */
  calibration?: LoadedModel;
  /** called after each round with rounds done and the current estimate of rounds in all */
  onRound?: (done: number, estimatedTotal: number) => void;
}

/** One measured model. */
export interface ModelResult {
  stats: LatencyStats;
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
  rounds: number;
}
