import { getSpace } from '../../../ops-library/index.ts';
import { accuracyScatterSpec, errorHistogramSpec, evaluatePredictors, PREDICTOR_KINDS, type EvalReport } from '../../../predictor/index.ts';
import { trainingData } from '../../training-data.ts';
import type { Store } from '../../store/index.ts';
import { HttpError, unknownDevice } from '../http.ts';
import type { AccuracySplitView, AccuracyView } from './types.ts';

/** Fewer network measurements than this train no correction (collector/training-data.ts predictorFor): nothing to evaluate. */
export const MIN_EVAL_NETWORKS = 10;

/** The report's splits as the dashboard shows them, with report.ts's own Vega-Lite specs. */
export function accuracyView(report: EvalReport, measurements: number, networks: number): AccuracyView {
  const splits: AccuracySplitView[] = report.splits.map((s) => {
    const pts = PREDICTOR_KINDS.flatMap((k) => (s.points[k] ?? []).map((p) => ({ ...p, kind: k })));
    return {
      split: s.split,
      trainNetworks: s.trainNetworks,
      testNetworks: s.testNetworks,
      metrics: s.metrics,
      scatter: accuracyScatterSpec(pts, `predicted vs measured (${s.split}, ${s.testNetworks} held-out networks)`) as unknown as Record<string, unknown>,
      histogram: errorHistogramSpec(
        pts.map((p) => ({ kind: p.kind, err: (100 * (p.predicted - p.measured)) / p.measured })),
        `error histogram (${s.split})`,
        'held-out networks',
      ) as unknown as Record<string, unknown>,
    };
  });
  return { device: report.deviceId, space: report.space, measurements, networks, splits };
}

/**
 * Held-out accuracy per device and space (predictor/evaluate.ts: trained on one pass's networks,
 * tested on architectures it never saw), cached until the device's measurement count changes.
 * Every predictor kind is evaluated (PREDICTOR_KINDS, the encoding baseline included): a
 * predictor trained elsewhere (`hwlat train`, the demo) may default to any of them, and the
 * table shows the figure of the kind it uses. One evaluation in flight per key; a failed one is
 * not kept.
 */
export class AccuracyCache {
  private readonly entries = new Map<string, { count: number; promise: Promise<AccuracyView> }>();

  constructor(private readonly store: Store) {}

  async get(deviceId: string, spaceName: string): Promise<AccuracyView> {
    const space = getSpace(spaceName);
    if (!(await this.store.getDevice(deviceId))) throw await unknownDevice(this.store, deviceId);
    const key = `${deviceId}\u0000${space.name}`;
    const count = await this.store.countMeasurements({ deviceId });
    // from here to the set below nothing awaits: one evaluation in flight per key and count
    const hit = this.entries.get(key);
    if (hit && hit.count === count) return hit.promise;
    const promise = this.evaluate(deviceId, space.name, count);
    this.entries.set(key, { count, promise });
    promise.catch(() => {
      if (this.entries.get(key)?.promise === promise) this.entries.delete(key);
    });
    return promise;
  }

  private async evaluate(deviceId: string, spaceName: string, count: number): Promise<AccuracyView> {
    const data = await trainingData(this.store, deviceId, spaceName);
    if (data.networks.length < MIN_EVAL_NETWORKS) {
      throw new HttpError(
        404,
        `device '${deviceId}' has ${data.networks.length} network measurements of space '${spaceName}'; the accuracy view needs at least ${MIN_EVAL_NETWORKS}: ` +
          `measure more with \`hwlat profile --space ${spaceName} --networks 30\``,
      );
    }
    if (data.lutMs.size === 0) {
      throw new HttpError(404, `device '${deviceId}' has no op-level measurements of space '${spaceName}': measure them with \`hwlat profile --space ${spaceName} --ops\``);
    }
    const report = await evaluatePredictors({
      deviceId, space: data.space, calibrationMs: data.calibrationMs, lutMs: data.lutMs, networks: data.networks, anchorElasticity: data.anchorElasticity, encodingBaseline: true,
    });
    try {
      return accuracyView(report, count, data.networks.length);
    } finally {
      // the evaluation's own predictor is not served: release its tfjs weights
      report.predictor.encodingModel?.dispose();
      report.predictor.residualModel?.dispose();
    }
  }
}
