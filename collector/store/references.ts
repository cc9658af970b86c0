import { isDeepStrictEqual } from 'node:util';
import type { Campaign, JobTask, KernelProfileRecord, Measurement, MeasurementLevel, Pass } from '../../protocol/index.ts';
import { StoreConflictError, StoreReferenceError } from './errors.ts';
import type { NewCampaign } from './types.ts';

// The checks that compare an argument with stored rows, once for every backend: a backend reads the
// rows (inside its transaction) and these say whether they fit and, if not, throw the error that
// names the argument. Pure: no I/O.

/** `'a', 'b'` for error messages */
export function quoteList(items: readonly string[]): string {
  return items.map((x) => `'${x}'`).join(', ');
}

/** The error for a row that names a device the store does not hold. */
export function unknownDevice(argument: string, deviceId: string): StoreReferenceError {
  return new StoreReferenceError(argument, `unknown device '${deviceId}'; upsertDevice it first`);
}

/**
 * A pass re-sent with the same id (an agent's reconnect) must be the same pass: same device,
 * start time and calibration key. Throws StoreConflictError listing what differs.
 */
export function checkSamePass(stored: Pass, incoming: Pass): void {
  const diffs: string[] = [];
  if (stored.deviceId !== incoming.deviceId) diffs.push(`deviceId '${stored.deviceId}' ≠ '${incoming.deviceId}'`);
  if (stored.startedAt !== incoming.startedAt) diffs.push(`startedAt '${stored.startedAt}' ≠ '${incoming.startedAt}'`);
  if (stored.calibrationKey !== incoming.calibrationKey) {
    diffs.push(`calibrationKey '${stored.calibrationKey}' ≠ '${incoming.calibrationKey}'`);
  }
  if (diffs.length > 0) throw new StoreConflictError('pass', incoming.id, `stored ${diffs.join(', ')}`);
}

/**
 * Throws StoreReferenceError naming the first measurement whose device or pass is unknown, or whose
 * pass belongs to another device.
 * @param knownDevices the ids among the measurements' devices that the store holds
 * @param passOwners pass id → its device, for the measurements' passes that the store holds
 * @param label how errors name the i-th measurement, e.g. `measurements[3]`
 */
export function checkMeasurementReferences(
  measurements: readonly Pick<Measurement, 'deviceId' | 'passId'>[],
  knownDevices: ReadonlySet<string>,
  passOwners: ReadonlyMap<string, string>,
  label: (i: number) => string,
): void {
  measurements.forEach((m, i) => {
    if (!knownDevices.has(m.deviceId)) throw unknownDevice(`${label(i)}.deviceId`, m.deviceId);
    const owner = passOwners.get(m.passId);
    if (owner === undefined) throw new StoreReferenceError(`${label(i)}.passId`, `unknown pass '${m.passId}'; startPass it first`);
    if (owner !== m.deviceId) {
      throw new StoreReferenceError(`${label(i)}.passId`, `pass '${m.passId}' belongs to device '${owner}', not '${m.deviceId}'`);
    }
  });
}

/** A campaign may list only registered devices: StoreReferenceError naming the unknown ones. */
export function checkCampaignDevices(listed: readonly string[], knownDevices: ReadonlySet<string>): void {
  const unknown = listed.filter((id) => !knownDevices.has(id));
  if (unknown.length > 0) {
    throw new StoreReferenceError(
      'campaign.request.devices',
      `unknown device${unknown.length > 1 ? 's' : ''} ${quoteList(unknown)}; a campaign can list only devices that have registered`,
    );
  }
}

/**
 * A campaign posted again must be the same campaign (createdAt, request with defaults filled,
 * tasks in order); StoreConflictError listing what differs.
 */
export function checkSameCampaign(stored: { campaign: Campaign; tasks: readonly JobTask[] }, incoming: NewCampaign): void {
  const diffs: string[] = [];
  if (stored.campaign.createdAt !== incoming.createdAt) diffs.push(`createdAt '${stored.campaign.createdAt}' ≠ '${incoming.createdAt}'`);
  if (!isDeepStrictEqual(stored.campaign.request, incoming.request)) diffs.push('a different request');
  if (!isDeepStrictEqual([...stored.tasks], incoming.tasks)) diffs.push('different tasks');
  if (diffs.length > 0) throw new StoreConflictError('campaign', incoming.id, `stored with ${diffs.join(', ')}`);
}

/** The stored measurement a network kernel profile names, as the check needs it. */
export interface ProfiledMeasurement {
  deviceId: string;
  level: MeasurementLevel;
  space: string | null;
  key: string;
  disturbed: boolean;
}

/**
 * Checks a kernel profile against the store: its device must be known; a network profile's
 * measurement must be a network-level measurement of that device with the same space and key
 * (StoreReferenceError), and have no other profile (StoreConflictError). Returns whether the
 * profile is stored marked disturbed (its measurement is).
 * @param measurement the measurement it names (undefined: unknown); not read for measurementId null
 * @param otherProfile the id of the profile that measurement already has, if any
 */
export function checkKernelProfile(args: {
  record: KernelProfileRecord;
  argument: string;
  deviceKnown: boolean;
  measurement: ProfiledMeasurement | undefined;
  otherProfile: string | undefined;
}): boolean {
  const { record: r, argument } = args;
  if (!args.deviceKnown) throw unknownDevice(`${argument}.deviceId`, r.deviceId);
  if (r.measurementId === null) return false;
  const m = args.measurement;
  const field = `${argument}.measurementId`;
  if (m === undefined) throw new StoreReferenceError(field, `unknown measurement '${r.measurementId}'; store the network's measurement first`);
  if (m.deviceId !== r.deviceId) throw new StoreReferenceError(field, `measurement '${r.measurementId}' is of device '${m.deviceId}', not '${r.deviceId}'`);
  if (m.level !== 'network' || m.space !== r.space || m.key !== r.key) {
    throw new StoreReferenceError(
      field,
      `measurement '${r.measurementId}' is ${m.level} ${JSON.stringify(m.space)} '${m.key}', not the profiled network ${JSON.stringify(r.space)} '${r.key}'`,
    );
  }
  if (args.otherProfile !== undefined && args.otherProfile !== r.id) {
    throw new StoreConflictError('kernel profile', r.id, `measurement '${r.measurementId}' already has profile '${args.otherProfile}'`);
  }
  return m.disturbed;
}
