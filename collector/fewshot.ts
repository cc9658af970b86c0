import { getSpace, sampleArchs, type SearchSpace } from '../ops-library/index.ts';
import { planFewShot, type ReferenceLatencies, type TargetSample } from '../predictor/index.ts';
import { trainingData } from './training-data.ts';
import type { Store } from './store/index.ts';

/** A fleet's network measurements of one space, shaped for few-shot transfer to one device. */
export interface FleetFewShotData {
  space: SearchSpace;
  /** every architecture some device measured (canonical arch strings), plus any extra ones asked for */
  archs: string[];
  /** the other devices with at least 2 measured networks of the space */
  reference: ReferenceLatencies;
  /** the target device's own measurements (indices into archs) */
  target: TargetSample[];
  deviceId: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Each device's networks of a space: canonical arch → median ms at its reference calibration. */
async function deviceNetworks(store: Store, deviceId: string, space: SearchSpace): Promise<Map<string, number>> {
  // trainingData normalises every network to the device's reference calibration, as training does
  const byArch = new Map<string, number[]>();
  for (const n of (await trainingData(store, deviceId, space.name)).networks) {
    const arch = space.format(space.parse(n.arch));
    byArch.set(arch, [...(byArch.get(arch) ?? []), n.ms]);
  }
  return new Map([...byArch].map(([a, ms]) => [a, median(ms)]));
}

/** Every device's networks of a space (deviceNetworks), in the store's device order. */
async function devicesNetworks(store: Store, space: SearchSpace): Promise<{ id: string; nets: Map<string, number> }[]> {
  const out: { id: string; nets: Map<string, number> }[] = [];
  for (const d of await store.listDevices()) out.push({ id: d.id, nets: await deviceNetworks(store, d.id, space) });
  return out;
}

/** The space of the device's network measurements when it has exactly one. */
async function inferSpace(store: Store, deviceId: string): Promise<string> {
  const spaces = [...new Set((await store.listMeasurements({ deviceId, level: 'network' })).map((m) => m.space).filter((s): s is string => !!s))];
  if (spaces.length !== 1) {
    throw new RangeError(
      spaces.length === 0 ? `device '${deviceId}' has no network measurements: measure a few networks first (hwlat fewshot plan, hwlat campaign create --fewshot K)` : `device '${deviceId}' has networks of several spaces (${spaces.join(', ')}): pass '--space'`,
    );
  }
  return spaces[0] as string;
}

/**
 * Reads what few-shot transfer to `deviceId` needs from the store: its own network
 * measurements of the space (at least 2) and every other device's as the reference, all
 * calibration-normalised like training data. `extraArchs` are added to the architectures to predict.
 *
 * @example
 * const data = await fleetFewShotData(store, 'dev-0123456789ab', { space: 'nasbench201' });
 * fewShotPredict(data).ms; // one prediction per data.archs
 */
export async function fleetFewShotData(store: Store, deviceId: string, options: { space?: string; extraArchs?: readonly string[] } = {}): Promise<FleetFewShotData> {
  if (!(await store.getDevice(deviceId))) {
    throw new RangeError(`unknown device '${deviceId}'; known: ${(await store.listDevices()).map((d) => d.id).join(', ') || '(none)'}`);
  }
  const space = getSpace(options.space ?? (await inferSpace(store, deviceId)));
  const own = await deviceNetworks(store, deviceId, space);
  if (own.size < 2) {
    throw new RangeError(`device '${deviceId}' has ${own.size} measured network(s) of '${space.name}'; few-shot transfer needs at least 2 (e.g. hwlat campaign create --fewshot 10 --devices ${deviceId})`);
  }
  const others = (await devicesNetworks(store, space)).filter((d) => d.id !== deviceId && d.nets.size >= 2);
  const archs = [...new Set([...own.keys(), ...others.flatMap((d) => [...d.nets.keys()]), ...(options.extraArchs ?? []).map((a) => space.format(space.parse(a)))])];
  const index = new Map(archs.map((a, i) => [a, i]));
  return {
    space,
    archs,
    deviceId,
    target: [...own].map(([arch, ms]) => ({ index: index.get(arch) as number, ms })),
    reference: { devices: others.map((d) => d.id), ms: others.map((d) => Float64Array.from(archs, (a) => d.nets.get(a) ?? Number.NaN)) },
  };
}

/**
 * The K networks a new device of the fleet should measure for few-shot transfer: planned over the
 * architectures the devices already measured (their latencies tell the devices apart). With no
 * device measurements of the space yet, over seeded samples of the space.
 */
export async function fleetFewShotPlan(store: Store, spaceName: string, k: number, seed = 0): Promise<string[]> {
  const space = getSpace(spaceName);
  const devices = (await devicesNetworks(store, space)).filter((d) => d.nets.size >= 2);
  let archs = [...new Set(devices.flatMap((d) => [...d.nets.keys()]))];
  if (archs.length < k) archs = [...new Set([...archs, ...sampleArchs(space, { count: Math.max(1000, k), seed })])];
  const reference = { devices: devices.map((d) => d.id), ms: devices.map((d) => Float64Array.from(archs, (a) => d.nets.get(a) ?? Number.NaN)) };
  return planFewShot({ space, archs, reference, k, seed }).map((i) => archs[i] as string);
}
