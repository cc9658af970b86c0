import { median } from 'simple-statistics';
import type { Measurement, MeasurementQuality, QualityVerdict } from '../protocol/index.ts';

type HasQuality = Pick<Measurement, 'quality'>;

/** A measurement's verdict; one stored before verdicts existed counts as clean. */
export function verdictOf(m: HasQuality): QualityVerdict {
  return m.quality?.verdict ?? 'clean';
}

/** Whether a LUT or a predictor may use the measurement: every verdict but `disturbed`. */
export function isUsable(m: HasQuality): boolean {
  return verdictOf(m) !== 'disturbed';
}

/** Splits measurements into those a LUT or predictor may use and the disturbed ones it must not. */
export function splitUsable<T extends HasQuality>(measurements: readonly T[]): { usable: T[]; disturbed: T[] } {
  const usable: T[] = [];
  const disturbed: T[] = [];
  for (const m of measurements) (isUsable(m) ? usable : disturbed).push(m);
  return { usable, disturbed };
}

/** How a device's data reads as a whole: `unreliable` data should not be trusted for a score. */
export type DataVerdict = 'clean' | 'noisy' | 'unreliable';

export interface QualitySummary {
  verdict: DataVerdict;
  measurements: number;
  /** measuring groups (a pass's measurements sharing one calibration figure) */
  groups: number;
  /** groups with at least one measurement re-measured after disturbed rounds */
  remeasuredGroups: number;
  /** groups stored disturbed (not used by LUTs or predictors) */
  disturbedGroups: number;
  /** measurements stored disturbed */
  disturbed: number;
  /** median coefficient of variation of the usable measurements; null without any */
  medianCv: number | null;
  /** one line for a table's note column: "noisy: 31% of groups re-measured, cv 0.18" */
  text: string;
}

/** a device whose groups were re-measured this often, or disturbed at all, is noisy */
const NOISY_REMEASURED = 0.1;
/** … and whose groups were disturbed this often is unreliable */
const UNRELIABLE_DISTURBED = 0.2;
/** a median cv above this is noisy even where no round was discarded */
const NOISY_CV = 0.1;

const pct = (x: number) => `${Math.round(100 * x)}%`;

/**
 * The quality of a set of measurements (one device's, usually) in a few figures and one line.
 * Groups are what the profiler measured together: a group is re-measured (or disturbed) when any
 * of its measurements is.
 *
 * @example
 * summariseQuality(store.listMeasurements({ deviceId })).text // 'noisy: 31% of groups re-measured, cv 0.18'
 */
export function summariseQuality(measurements: readonly Measurement[]): QualitySummary {
  const groups = new Map<string, QualityVerdict>();
  const rank: Record<QualityVerdict, number> = { clean: 0, remeasured: 1, disturbed: 2 };
  let disturbed = 0;
  const cvs: number[] = [];
  for (const m of measurements) {
    const v = verdictOf(m);
    if (v === 'disturbed') disturbed++;
    else cvs.push(m.stats.cv);
    const key = `${m.passId}|${m.calibrationMs}`;
    const was = groups.get(key);
    if (was === undefined || rank[v] > rank[was]) groups.set(key, v);
  }
  const n = groups.size;
  const remeasuredGroups = [...groups.values()].filter((v) => v === 'remeasured').length;
  const disturbedGroups = [...groups.values()].filter((v) => v === 'disturbed').length;
  const medianCv = cvs.length > 0 ? median(cvs) : null;
  const verdict: DataVerdict =
    n > 0 && disturbedGroups / n >= UNRELIABLE_DISTURBED
      ? 'unreliable'
      : n > 0 && (disturbedGroups > 0 || remeasuredGroups / n >= NOISY_REMEASURED || (medianCv ?? 0) > NOISY_CV)
        ? 'noisy'
        : 'clean';
  const parts: string[] = [];
  if (n === 0) parts.push('no measurements');
  else {
    if (remeasuredGroups > 0 || verdict !== 'clean') parts.push(`${pct(remeasuredGroups / n)} of groups re-measured`);
    if (disturbedGroups > 0) parts.push(`${pct(disturbedGroups / n)} disturbed (${disturbed} measurements left out)`);
    if (medianCv !== null) parts.push(`cv ${medianCv.toFixed(2)}`);
  }
  return { verdict, measurements: measurements.length, groups: n, remeasuredGroups, disturbedGroups, disturbed, medianCv, text: `${verdict}: ${parts.join(', ')}` };
}

/** fewer usable network measurements than this, or under this share of them, is too little to score a predictor on */
export const MIN_CLEAN_NETWORKS = 10;
export const MIN_CLEAN_SHARE = 0.5;

/**
 * Whether a predictor trained on a device's network measurements can report a score: null when it
 * can, else the reason ("too little clean data: 8 of 40 networks usable"). `usable` of `total`
 * network measurements were not disturbed.
 */
export function insufficientCleanData(o: { usable: number; total: number }): string | null {
  if (o.total === 0) return null;
  if (o.usable < MIN_CLEAN_NETWORKS || o.usable < MIN_CLEAN_SHARE * o.total) {
    return `too little clean data: ${o.usable} of ${o.total} networks usable`;
  }
  return null;
}

/**
 * A stray disturbed round (a page fault, a timer interrupt) is discarded but does not make a
 * measurement `remeasured`: on an idle machine about one round in 40 is. Only more than this share
 * of the rounds (and more than one round) does.
 */
const STRAY_ROUNDS = 0.1;

/** A verdict for a measurement from how many rounds were kept and discarded, with its evidence. */
export function qualityOf(o: { rounds: number; discardedRounds: number; exhausted: boolean; evidence: readonly string[] }): MeasurementQuality {
  const stray = o.discardedRounds <= Math.max(1, STRAY_ROUNDS * (o.rounds + o.discardedRounds));
  const verdict: QualityVerdict = o.exhausted ? 'disturbed' : stray ? 'clean' : 'remeasured';
  return { verdict, rounds: o.rounds, discardedRounds: o.discardedRounds, evidence: o.evidence.slice(0, 16).map((e) => e.slice(0, 200)) };
}
