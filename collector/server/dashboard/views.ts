import { summariseQuality, type QualitySummary } from '../../../conditions/index.ts';
import { getSpace, sampleArchs, SPACES, spaceUnits, specKey } from '../../../ops-library/index.ts';
import { deviceLut } from '../../training-data.ts';
import type { Store } from '../../store/index.ts';
import { unknownDevice } from '../http.ts';
import { lutHeatmapSpec } from './specs.ts';
import type {
  DeviceQualityView, DeviceSummaryView, DeviceView, LutCell, LutCoverage, LutTableView, MeasurementCount, SpaceView,
} from './types.ts';

/** summariseQuality's figures in the API's snake_case. */
export function qualityView(q: QualitySummary): DeviceQualityView {
  return {
    verdict: q.verdict,
    text: q.text,
    groups: q.groups,
    remeasured_groups: q.remeasuredGroups,
    disturbed_groups: q.disturbedGroups,
    disturbed_measurements: q.disturbed,
    median_cv: q.medianCv,
  };
}

/**
 * The quality of each device's measurements, recomputed only when its measurement count changes
 * (measurements are only ever added, and a stored one never changes).
 *
 * @example
 * const quality = new DeviceQualityCache(store);
 * (await quality.get('dev-0123456789ab')).text // 'noisy: 31% of groups re-measured, cv 0.18'
 */
export class DeviceQualityCache {
  private readonly entries = new Map<string, { count: number; view: DeviceQualityView }>();

  constructor(private readonly store: Store) {}

  /** `count`: the device's measurement count when the caller already has it (listDevices) */
  async get(deviceId: string, known?: number): Promise<DeviceQualityView> {
    const count = known ?? (await this.store.countMeasurements({ deviceId }));
    const hit = this.entries.get(deviceId);
    if (hit && hit.count === count) return hit.view;
    const view = qualityView(summariseQuality(await this.store.listMeasurements({ deviceId })));
    this.entries.set(deviceId, { count, view });
    return view;
  }
}

/** Every device with its measurement count and data quality (`GET /api/devices`). */
export async function devicesView(store: Store, quality = new DeviceQualityCache(store)): Promise<DeviceView[]> {
  const out: DeviceView[] = [];
  for (const d of await store.listDevices()) out.push({ ...d, quality: await quality.get(d.id, d.measurements) });
  return out;
}

/**
 * Measurement counts per level and space, the quality of the device's data, and LUT coverage per space: the op keys the device has
 * measured (in any pass, for any space: a key is a key) against the space's keys.
 */
export async function deviceSummary(store: Store, deviceId: string, quality = new DeviceQualityCache(store)): Promise<DeviceSummaryView> {
  const device = (await store.listDevices()).find((d) => d.id === deviceId);
  if (!device) throw await unknownDevice(store, deviceId);
  const counts: MeasurementCount[] = [];
  for (const level of ['op', 'network'] as const) {
    for (const space of [...Object.keys(SPACES), null]) {
      const count = await store.countMeasurements({ deviceId, level, space });
      if (count > 0) counts.push({ level, space, count });
    }
  }
  const measuredKeys = new Set((await store.listMeasurements({ deviceId, level: 'op' })).map((m) => m.key));
  const coverage: LutCoverage[] = Object.values(SPACES).map((space) => {
    const keys = [...spaceUnits(space).keys()];
    return {
      space: space.name,
      measured: keys.filter((k) => measuredKeys.has(k)).length,
      total: keys.length,
      networks: counts.find((c) => c.level === 'network' && c.space === space.name)?.count ?? 0,
    };
  });
  const ranked = [...coverage].filter((c) => c.measured > 0 || c.networks > 0).sort((a, b) => b.networks - a.networks || b.measured / b.total - a.measured / a.total);
  return { device, quality: await quality.get(deviceId, device.measurements), counts, coverage, defaultSpace: ranked[0]?.space ?? null };
}

/**
 * The device's LUT laid out by the space's positions and candidates (the ProxylessNAS/FBNet
 * layers × blocks table) with its heatmap spec. Values are LUT medians at the LUT's reference
 * calibration, as the predictor uses them.
 */
export async function lutTable(store: Store, deviceId: string, spaceName: string): Promise<LutTableView> {
  const space = getSpace(spaceName);
  if (!(await store.getDevice(deviceId))) throw await unknownDevice(store, deviceId);
  const lut = await deviceLut(store, deviceId, space.name);
  const sum = (specs: readonly Parameters<typeof specKey>[0][]) => {
    let ms = 0;
    let measured = 0;
    for (const spec of specs) {
      const e = lut.entries.get(specKey(spec));
      if (e) {
        ms += e.median;
        measured++;
      }
    }
    return { ms: measured === specs.length ? ms : null, units: specs.length, measuredUnits: measured };
  };
  const cells: LutCell[] = space.positions.flatMap((p) => p.choices.map((c) => ({ position: p.name, choice: c.name, ...sum(c.units) })));
  return {
    device: deviceId,
    space: space.name,
    calibrationMs: lut.calibrationMs,
    entries: lut.entries.size,
    positions: space.positions.map((p) => p.name),
    cells,
    fixed: sum(space.fixedUnits),
    spec: lutHeatmapSpec(cells, `${space.name}: LUT ms per candidate (Σ of its layers)`),
  };
}

/** Every space with a few sampled architectures for the prediction form. */
export function spacesView(examples = 3): SpaceView[] {
  return Object.values(SPACES).map((s) => ({
    name: s.name,
    summary: s.summary,
    positions: s.positions.length,
    keys: spaceUnits(s).size,
    examples: sampleArchs(s, { count: examples, seed: 1 }),
  }));
}
