import type { DeviceProfile, Measurement, MeasurementLevel, Pass } from '../../protocol/index.ts';
import type { Migration } from './migrations.ts';

/** What finishPass records once a pass is over. */
export interface PassFinish {
  /** ISO timestamp */
  finishedAt: string;
  /** median of the calibration workload over the whole pass; null if it was never measured */
  calibrationMs: number | null;
  /** per-round calibration medians, in order */
  calibrationTrace: number[];
}

/**
 * Which measurements to list or count. Every given field must match; an unknown field is refused
 * (a typo such as `{ device: … }` must not silently select everything).
 */
export interface MeasurementFilter {
  deviceId?: string;
  level?: MeasurementLevel;
  /** a space name, or null for measurements that belong to no search space */
  space?: string | null;
  key?: string;
  /** at most this many rows (positive integer) */
  limit?: number;
}

/** Outcome of insertMeasurements: re-sent results (same id) count as duplicates, not errors. */
export interface InsertResult {
  inserted: number;
  duplicates: number;
}

/** A device with the number of measurements stored for it. */
export type DeviceSummary = DeviceProfile & { measurements: number };

/**
 * The collector's persistence seam. Nothing outside collector/store speaks SQL: the ws endpoint,
 * the planner, LUT building and training all go through this interface, so a PostgreSQL
 * implementation can replace SQLite without touching them. All methods are synchronous (the
 * SQLite implementation is in-process); every write is committed when the method returns, so a
 * result may be acknowledged to its agent right after insertMeasurements returns.
 *
 * Errors (collector/store/errors.ts): StoreValidationError (a TypeError) for bad arguments, naming
 * the argument path; StoreReferenceError for rows that point at unknown devices or passes;
 * StoreNotFoundError, StoreConflictError, StoreClosedError.
 *
 * @example
 * import { openStore } from './collector/index.ts';
 * const store = openStore({ path: '/tmp/hwlat-example.sqlite' });
 * store.upsertDevice({
 *   id: 'dev-0123456789ab', name: 'laptop',
 *   hardware: { cpu: 'i7', cores: 8, memoryBytes: 16e9, os: 'linux', arch: 'x64', gpus: [] },
 *   runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
 * });
 * store.startPass({ id: 'pass-1', deviceId: 'dev-0123456789ab', startedAt: new Date().toISOString(),
 *   finishedAt: null, calibrationKey: 'calib-conv', calibrationMs: null, calibrationTrace: [] });
 * console.log(store.countMeasurements({ deviceId: 'dev-0123456789ab' })); // 0
 * store.close();
 */
export interface Store {
  /**
   * Creates the device or updates its name, hardware and runtime (its first-seen time is kept).
   * The profile is validated with DeviceProfileSchema.
   */
  upsertDevice(profile: DeviceProfile): void;

  /** The device with this id, or undefined. */
  getDevice(id: string): DeviceProfile | undefined;

  /** Every device, oldest first, each with its number of stored measurements. */
  listDevices(): DeviceSummary[];

  /**
   * Records the start of a pass. Its device must exist. Starting a pass that already exists with
   * the same device, start time and calibration key is a no-op (an agent re-sending after a
   * reconnect); with different ones it is a StoreConflictError.
   */
  startPass(pass: Pass): void;

  /** Records the end of a pass and its calibration; StoreNotFoundError if the pass is unknown. */
  finishPass(id: string, finish: PassFinish): void;

  /** The pass with this id, or undefined. */
  getPass(id: string): Pass | undefined;

  /**
   * Stores a batch of measurements atomically: every one is validated (MeasurementSchema) and its
   * device and pass checked first, and any failure writes nothing of the batch. Measurements whose
   * id is already stored are ignored and counted as duplicates, so re-sent results are harmless.
   */
  insertMeasurements(measurements: Measurement[]): InsertResult;

  /** Measurements matching the filter, ordered by createdAt, then id. */
  listMeasurements(filter?: MeasurementFilter): Measurement[];

  /** How many rows listMeasurements(filter) would return (so `limit` caps the count too). */
  countMeasurements(filter?: MeasurementFilter): number;

  /** Releases the database; idempotent. Any later call throws StoreClosedError. */
  close(): void;
}

/** Options of openStore. */
export interface OpenStoreOptions {
  /** database file; its directory must exist and be writable. ':memory:' for a throwaway store. */
  path: string;
  /** how long a write waits for another process's write lock before failing (default 5000 ms) */
  busyTimeoutMs?: number;
  /**
   * the schema migrations to bring the file up to (default: MIGRATIONS). Only tests and tools
   * that exercise the migration mechanism itself pass another list.
   */
  migrations?: readonly Migration[];
}
