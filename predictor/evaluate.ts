import type { SearchSpace } from '../ops-library/index.ts';
import { accuracy, type AccuracyMetrics } from './metrics.ts';
import type { LatencyPredictor } from './predictor.ts';
import { inHoldout } from './split.ts';
import { trainPredictor, type TrainOptions } from './train.ts';
import { PREDICTOR_KINDS, type NetworkSample, type PredictorKind } from './types.ts';

export interface EvalSplit {
  /** 'same-pass': held-out networks of the training pass; 'cross-pass': networks of other passes */
  split: 'same-pass' | 'cross-pass';
  trainNetworks: number;
  testNetworks: number;
  metrics: Partial<Record<PredictorKind, AccuracyMetrics>>;
  /** for plots: measured and predicted ms per test network, per kind */
  points: Partial<Record<PredictorKind, Array<{ arch: string; measured: number; predicted: number }>>>;
}

export interface EvalReport {
  deviceId: string;
  space: string;
  calibrationMs: number | null;
  lutEntries: number;
  splits: EvalSplit[];
  predictor: LatencyPredictor;
}

export interface EvalOptions extends Omit<TrainOptions, 'networks'> {
  networks: readonly NetworkSample[];
  /** at most this many training networks (default 500) */
  maxTrain?: number;
  /** share of the training pass's architectures held out for testing (default 0.2) */
  testShare?: number;
}

/**
 * Held-out accuracy of every predictor kind. The predictor is trained on networks of one pass
 * (the largest) and tested on (a) architectures of that pass it never saw and (b) networks
 * measured in other passes, after calibration normalisation: the honest case, since a LUT and
 * networks are usually measured hours apart.
 */
export async function evaluatePredictors(o: EvalOptions): Promise<EvalReport> {
  const byPass = new Map<string, NetworkSample[]>();
  for (const n of o.networks) byPass.set(n.passId, [...(byPass.get(n.passId) ?? []), n]);
  const main = [...byPass.entries()].sort((a, b) => b[1].length - a[1].length)[0];
  if (!main) throw new RangeError(`no network measurements of '${o.space.name}' to evaluate on`);
  const share = o.testShare ?? 0.2;
  const isTest = (arch: string) => inHoldout(arch, share, 'eval');
  const train = main[1].filter((n) => !isTest(n.arch)).slice(0, o.maxTrain ?? 500);
  const trainArchs = new Set(train.map((n) => n.arch));
  const samePass = main[1].filter((n) => isTest(n.arch));
  const crossPass = o.networks.filter((n) => n.passId !== main[0] && !trainArchs.has(n.arch));
  const predictor = await trainPredictor({ ...o, networks: train });
  const ref = o.calibrationMs;
  // an anchor-normalised test latency is at the reference already: compare as predicted
  const atOwnCalibration = (t: NetworkSample) => (!t.anchorMs && ref && t.calibrationMs ? (predictor.calibrationScale(t.calibrationMs) * ref) / t.calibrationMs : 1);
  const splits: EvalSplit[] = [];
  for (const [split, test] of [['same-pass', samePass], ['cross-pass', crossPass]] as const) {
    if (test.length < 2) continue;
    const s: EvalSplit = { split, trainNetworks: train.length, testNetworks: test.length, metrics: {}, points: {} };
    for (const kind of PREDICTOR_KINDS) {
      if (kind === 'encoding-mlp' && !predictor.data.encoding) continue;
      // each prediction at its test network's condition (the group's calibration figure), as a
      // user predicts for a device's current calibration
      const pred = predictor.predictIndices(test.map((t) => predictor.indices(t.arch)), kind, { conditions: test.map((t) => predictor.condition(t.calibrationMs)) });
      // each test latency is normalised by its own group's calibration (exponent 1); the
      // predictor's figure at that calibration, normalised the same way, is what it predicted
      test.forEach((t, i) => (pred[i] = (pred[i] as number) * atOwnCalibration(t)));
      s.metrics[kind] = accuracy(Array.from(pred), test.map((t) => t.ms));
      s.points[kind] = test.map((t, i) => ({ arch: t.arch, measured: t.ms, predicted: pred[i] as number }));
    }
    splits.push(s);
  }
  return { deviceId: o.deviceId, space: o.space.name, calibrationMs: o.calibrationMs, lutEntries: o.lutMs.size, splits, predictor };
}
