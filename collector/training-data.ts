import { referenceCalibration, splitUsable, summariseQuality, type QualitySummary } from '../conditions/index.ts';
import { buildLut, type Lut } from '../lut/index.ts';
import { getSpace, spaceUnits, type SearchSpace } from '../ops-library/index.ts';
import {
  anchorFit, buildLutPredictor, networkSamples, trainPredictor, type LatencyPredictor, type NetworkSample, type TrainOptions,
} from '../predictor/index.ts';
import type { Store } from './store/index.ts';

/** What training needs from the store for one device and space, all normalised to one calibration. */
export interface TrainingData {
  deviceId: string;
  space: SearchSpace;
  calibrationMs: number | null;
  lutMs: Map<string, number>;
  networks: NetworkSample[];
  opMeasurements: number;
  /** the space's anchor elasticity when its network measurements carry anchors (dataset.ts) */
  anchorElasticity?: number;
  /** measurements left out because they were stored disturbed (conditions/quality.ts) */
  dropped: { ops: number; networks: number };
  /** network measurements of the space, disturbed ones included */
  networkMeasurements: number;
  /** the quality of the device's data behind this training set, op and network level */
  quality: QualitySummary;
}

/**
 * Reads a device's op-level (LUT) and network-level measurements of a space and normalises both
 * to the device's reference calibration, so a LUT and networks measured in different passes can
 * be combined.
 */
export async function trainingData(store: Store, deviceId: string, spaceName: string): Promise<TrainingData> {
  const space = getSpace(spaceName);
  if (!(await store.getDevice(deviceId))) {
    throw new RangeError(`unknown device '${deviceId}'; known: ${(await store.listDevices()).map((d) => d.id).join(', ') || '(none)'}`);
  }
  const allOps = await store.listMeasurements({ deviceId, level: 'op' });
  const allNets = await store.listMeasurements({ deviceId, level: 'network', space: space.name });
  // disturbed measurements are stored for the user to see, never trained on
  const { usable: ops, disturbed: droppedOps } = splitUsable(allOps);
  const { usable: nets, disturbed: droppedNets } = splitUsable(allNets);
  const ref = referenceCalibration([...ops, ...nets]);
  const lut = buildLut(ops, { deviceId, calibrationMs: ref });
  // the LUT value of a key is its median (robust to a noisy pass), at the reference calibration
  const lutMs = new Map([...lut.entries].map(([k, e]) => [k, e.median]));
  // networks measured beside their space's anchor are normalised by it (agent/anchors.ts)
  const anchor = anchorFit(nets, ref);
  return {
    deviceId, space, calibrationMs: ref, lutMs, networks: networkSamples(nets, ref, anchor), opMeasurements: ops.length, ...(anchor ? { anchorElasticity: anchor.elasticity } : {}),
    dropped: { ops: droppedOps.length, networks: droppedNets.length },
    networkMeasurements: allNets.length,
    quality: summariseQuality([...allOps, ...allNets]),
  };
}

/** Trains (with network measurements) or builds a LUT-only predictor (without). */
export async function predictorFor(data: TrainingData, options: Partial<TrainOptions> = {}): Promise<LatencyPredictor> {
  const base = { deviceId: data.deviceId, space: data.space, calibrationMs: data.calibrationMs, lutMs: data.lutMs, ...(data.anchorElasticity !== undefined ? { anchorElasticity: data.anchorElasticity } : {}), ...options };
  if (data.lutMs.size === 0 && data.networks.length === 0) {
    throw new RangeError(`device '${data.deviceId}' has no measurements for '${data.space.name}': profile it or import a LUT first`);
  }
  return data.networks.length >= 10 ? trainPredictor({ ...base, networks: data.networks }) : buildLutPredictor(base);
}

/**
 * A device's LUT from its op-level measurements, normalised to the same reference calibration as
 * trainingData (so its medians are the LUT values a predictor of that space uses). With a space,
 * only the keys of that space's units are kept (whichever pass or import they came from).
 * Disturbed measurements are left out. The CLI's `lut build`, the HTTP export and the dashboard
 * all build a device's LUT here, so they agree on its reference calibration.
 *
 * @example
 * const lut = await deviceLut(store, 'dev-0123456789ab', 'fbnet');
 * getLutFormat('proxyless').format(lut);
 */
export async function deviceLut(store: Store, deviceId: string, spaceName?: string | null): Promise<Lut> {
  const space = spaceName ? getSpace(spaceName) : null;
  if (!(await store.getDevice(deviceId))) {
    throw new RangeError(`unknown device '${deviceId}'; known: ${(await store.listDevices()).map((d) => d.id).join(', ') || '(none)'}`);
  }
  const ops = splitUsable(await store.listMeasurements({ deviceId, level: 'op' })).usable;
  const nets = space ? await store.listMeasurements({ deviceId, level: 'network', space: space.name }) : [];
  const ref = referenceCalibration([...ops, ...nets]);
  const units = space ? spaceUnits(space) : null;
  const selected = units ? ops.filter((m) => units.has(m.key)) : ops;
  return buildLut(selected, { deviceId, calibrationMs: ref, ...(space ? { space: space.name } : {}) });
}
