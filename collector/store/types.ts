import type {
  Campaign,
  CampaignProgress,
  CampaignRequest,
  DeviceProfile,
  Job,
  JobTask,
  KernelProfile,
  KernelProfileRecord,
  KernelSource,
  Measurement,
  MeasurementLevel,
  Pass,
} from '../../protocol/index.ts';
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

/** What createCampaign stores: the request as posted and the device-independent task list. */
export interface CampaignInput {
  /** 1–200 characters */
  id: string;
  /** ISO timestamp (UTC, `Z`): campaigns are leased oldest first by it */
  createdAt: string;
  request: CampaignRequest;
  /** at least one; no two with the same level, space and key. Jobs are tasks × matching devices. */
  tasks: JobTask[];
}

/**
 * How many failures (failJob) a job may have before the collector gives up on it: from then on it
 * is never leased again and campaignProgress counts it as `failed`. A few tries, not one: a job
 * can fail for a passing reason (the agent ran out of memory on a big lease), and another agent of
 * the same device may run it; not many more, because a bad spec fails the same way every time.
 */
export const MAX_JOB_FAILURES = 3;

/**
 * A job whose result came back `disturbed` (conditions/quality.ts) is queued again this many times
 * at most, each time held back DISTURBED_RETRY_MS · 2^(times so far) so the device can get quiet;
 * the result after that completes the job, stored marked (no LUT or predictor uses it).
 */
export const MAX_DISTURBED_REQUEUES = 1;
export const DISTURBED_RETRY_MS = 10_000;

/**
 * A device whose last PERSISTENT_WINDOW results were at least this share disturbed is disturbed
 * for good (2 spinning threads on 2 cores: every group of the demo's t2 device): its disturbed
 * results complete their jobs at once instead of being measured again 10 s later, as disturbed.
 */
export const PERSISTENT_DISTURBED_SHARE = 0.8;
export const PERSISTENT_WINDOW = 10;

/**
 * Where a job is, as stored: queued (leasable, unless it failed MAX_JOB_FAILURES times), leased
 * (to an agent, until its lease expires), done. A job the collector gave up on stays 'queued'.
 */
export type JobStatus = 'queued' | 'leased' | 'done';

/** A job with its bookkeeping, for diagnostics and tests (agents get the plain `Job`). */
export interface JobRecord extends Job {
  deviceId: string;
  /** the task's position in its campaign */
  taskIdx: number;
  /** as stored: a lease that expired is still 'leased' until a lease call or expireLeases returns it */
  status: JobStatus;
  /** how many times it has been leased */
  attempts: number;
  /** how many times an agent reported it cannot be built or run; at MAX_JOB_FAILURES it is given up */
  failures: number;
  /** the agent's message of the last failure; null while it never failed */
  lastError: string | null;
  leaseId: string | null;
  /** the agent id holding the lease */
  leaseOwner: string | null;
  /** epoch ms */
  leaseExpiresAt: number | null;
  /** the measurement that completed it */
  resultId: string | null;
  /** epoch ms */
  doneAt: number | null;
  /** ISO timestamp */
  createdAt: string;
}

/**
 * Which jobs listJobs and countJobs select; every given field must match. `status` is as stored
 * (see JobRecord.status), so 'queued' includes the jobs the collector gave up on; 'failed' selects
 * just those: queued with failures >= MAX_JOB_FAILURES.
 */
export interface JobFilter {
  campaignId?: string;
  deviceId?: string;
  status?: JobStatus | 'failed';
  /** at most this many rows (positive integer) */
  limit?: number;
}

/** Options of leaseJobs. */
export interface LeaseOptions {
  /** only this device's jobs are leased */
  deviceId: string;
  /** the agent that will hold the lease (one agent process; stable across its reconnects) */
  agentId: string;
  /** at most this many jobs (1–10000) */
  max: number;
  /** the lease lasts this long from `now` unless extended (ms, positive integer) */
  ttlMs: number;
  /** the clock, epoch ms */
  now: number;
}

/** A batch of leased jobs; with no job to lease, `{ leaseId: null, jobs: [], expiresAt: null }`. */
export interface LeaseGrant {
  leaseId: string | null;
  jobs: Job[];
  /** epoch ms */
  expiresAt: number | null;
}

/** Options of extendLeases (a heartbeat). */
export interface ExtendLeasesOptions {
  agentId: string;
  /** only these leases; all of the agent's when absent (an empty list extends none) */
  leaseIds?: string[];
  /** the new expiry, epoch ms; it must be after `now`. A lease is never shortened. */
  expiresAt: number;
  /** the clock, epoch ms: leases that expired by now are not revived */
  now: number;
}

/** Options of releaseLeases. */
export interface ReleaseLeasesOptions {
  agentId: string;
  /** only these leases; all of the agent's when absent (an empty list releases none) */
  leaseIds?: string[];
}

/** A job's result, for completeJob. */
export interface CompleteJobInput {
  jobId: string;
  /** the device of the agent that sent the result */
  deviceId: string;
  /**
   * the result as a measurement: level, space and key are the job's task's, deviceId is `deviceId`,
   * and jobId, when given, is `jobId`
   */
  measurement: Measurement;
  /**
   * the network's kernels timed in context (a network job asking for `kernels`): stored in the
   * same transaction as a kernel profile of the measurement (its id is the measurement's), never
   * for a duplicate
   */
  kernels?: KernelProfile;
  /** the clock, epoch ms (default: Date.now()); recorded as the job's doneAt */
  now?: number;
}

/**
 * What completeJob did: stored the measurement (the job is done), recognised a result it already
 * had, or stored a disturbed measurement and queued the job again for later.
 */
export type CompleteOutcome = 'stored' | 'duplicate' | 'requeued';

/** A job an agent could not build or run, for failJob. */
export interface FailJobInput {
  jobId: string;
  /** the device of the agent that reports it */
  deviceId: string;
  /** the agent that reports it: it must hold the job's lease */
  agentId: string;
  /** why, as the agent said it (1–MAX_JOB_ERROR_CHARS characters); kept as the job's lastError */
  error: string;
}

/** What failJob did: the job's failures now, and whether that was its last allowed one. */
export interface FailOutcome {
  failures: number;
  /** failures reached MAX_JOB_FAILURES: the job is not leased again */
  gaveUp: boolean;
}

/** Which kernel profiles to list or count; every given field must match, an unknown one is refused. */
export interface KernelProfileFilter {
  deviceId?: string;
  source?: KernelSource;
  /** a space name, or null for profiles of no space (samples) */
  space?: string | null;
  key?: string;
  measurementId?: string;
  /** at most this many rows (positive integer) */
  limit?: number;
}

/** Which timed kernels to list; every given field must match. */
export interface TimedKernelFilter {
  deviceId?: string;
  /** domain-qualified op, e.g. 'com.microsoft.nchwc:Conv' */
  op?: string;
  source?: KernelSource;
  /** leave out the kernels of disturbed network measurements (default false: all) */
  usableOnly?: boolean;
  /** at most this many rows (positive integer) */
  limit?: number;
}

/**
 * One stored kernel with where it came from: the per-kernel predictors read these rows (a
 * kernel type's rows of one device, with the calibration to normalise them by).
 */
export interface StoredTimedKernel {
  profileId: string;
  deviceId: string;
  source: KernelSource;
  space: string | null;
  /** arch string or sample key of the profiled model */
  key: string;
  batch: number;
  calibrationMs: number | null;
  /** the profile's network measurement was disturbed (conditions/quality.ts) */
  disturbed: boolean;
  /** position in the profile's execution order */
  position: number;
  name: string;
  op: string;
  attrs: Readonly<Record<string, number | string | readonly number[]>>;
  inputs: readonly (readonly number[])[];
  outputs: readonly (readonly number[])[];
  nodes: readonly string[];
  ms: number;
}

/**
 * The collector's persistence seam. Nothing outside collector/store speaks SQL: the ws endpoint,
 * the planner, LUT building and training all go through this interface, so a PostgreSQL
 * implementation can replace SQLite without touching them. All methods are synchronous (the
 * SQLite implementation is in-process); every write is committed when the method returns, so a
 * result may be acknowledged to its agent right after insertMeasurements returns.
 *
 * Errors (collector/store/errors.ts): StoreValidationError (a TypeError) for bad arguments, naming
 * the argument path; StoreReferenceError for rows that point at unknown devices or passes;
 * StoreNotFoundError, StoreConflictError, StoreJobStateError, StoreClosedError.
 *
 * Fleet work: a campaign is a list of device-independent tasks; a job is one task on one device,
 * done exactly once. Agents lease jobs in batches that expire unless heartbeats extend them; an
 * expired or released lease puts its jobs back in the queue; completeJob stores a job's one
 * measurement and marks it done in the same transaction; failJob gives a job its agent cannot run
 * back to the queue, and after MAX_JOB_FAILURES the job is given up (`failed`), so a campaign is
 * finished when every job is done or failed. Lease methods take the clock (`now`, epoch ms) as an
 * argument, so the lease manager and tests decide what time it is.
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
   * A measurement with a jobId is refused (StoreValidationError): a job's result goes through
   * completeJob, which also marks the job done.
   */
  insertMeasurements(measurements: Measurement[]): InsertResult;

  /** Measurements matching the filter, ordered by createdAt, then id. */
  listMeasurements(filter?: MeasurementFilter): Measurement[];

  /** How many rows listMeasurements(filter) would return (so `limit` caps the count too). */
  countMeasurements(filter?: MeasurementFilter): number;

  /**
   * Stores a campaign and its tasks (validated with CampaignRequestSchema and JobTaskSchema) and
   * creates its jobs for every known device it targets: all of them for `devices: 'all'`, else the
   * listed ones, which must all be known (StoreReferenceError naming the unknown ones, nothing
   * written). Creating a campaign that exists with the same content returns it; with other content
   * it is a StoreConflictError.
   */
  createCampaign(input: CampaignInput): Campaign;

  /** The campaign with this id (its request with defaults filled in), or undefined. */
  getCampaign(id: string): Campaign | undefined;

  /** Every campaign, newest first. */
  listCampaigns(): Campaign[];

  /**
   * Per device that has jobs of the campaign (by device id): how many are queued, leased, done and
   * failed at `now` (epoch ms, default Date.now()); a lease that expired by then counts as queued,
   * a job given up (failures >= MAX_JOB_FAILURES, not done) as failed, not queued. The four add up
   * to total; the campaign is finished on a device when done + failed = total (campaignFinished).
   * StoreNotFoundError for an unknown campaign.
   */
  campaignProgress(id: string, now?: number): CampaignProgress[];

  /**
   * Creates the missing jobs of every campaign that targets this device (all-device campaigns
   * include devices that registered after them); returns how many it created. Call it when a
   * device says hello. StoreReferenceError for an unknown device.
   */
  ensureJobsForDevice(deviceId: string): number;

  /**
   * Returns expired leases to the queue, then leases up to `max` of the device's queued jobs
   * (oldest campaign first, in task order) to the agent under one new lease id, expiring at
   * now + ttlMs; each leased job's attempts grow by one. Jobs with MAX_JOB_FAILURES failures are
   * skipped: they were given up.
   */
  leaseJobs(options: LeaseOptions): LeaseGrant;

  /** Moves the expiry of the agent's unexpired leases to `expiresAt`; returns how many jobs. */
  extendLeases(options: ExtendLeasesOptions): number;

  /** Returns the agent's leased jobs to the queue (e.g. it disconnected); returns how many. */
  releaseLeases(options: ReleaseLeasesOptions): number;

  /** Returns every lease that expired by `now` (epoch ms) to the queue; returns how many jobs. */
  expireLeases(now: number): number;

  /**
   * Stores a job's result and marks the job done, in one transaction. The measurement is validated
   * (MeasurementSchema; StoreValidationError naming the field) and must be the job's: same level,
   * space and key as its task, the caller's device, a pass of that device (StoreReferenceError).
   * StoreNotFoundError for an unknown job; StoreJobStateError 'wrong_device' for a job of another
   * device, 'not_leased' for a job never leased. A result whose lease expired or went to another
   * agent of the same device is stored as long as the job is not done. 'duplicate' (nothing
   * written) when the job is already done or this result id is already its measurement; a result
   * id stored for something else is a StoreConflictError. Exactly one measurement per job. A job
   * given up after failures is still completed by a result that comes after all (it was leased).
   */
  completeJob(input: CompleteJobInput): CompleteOutcome;

  /**
   * Records that the agent holding a job's lease cannot build or run it, in one transaction: the
   * lease is cleared (the job is queued again), failures grow by one, lastError is `error`. At
   * MAX_JOB_FAILURES the job is given up (`gaveUp`): leaseJobs skips it from then on.
   * StoreValidationError for bad arguments; StoreNotFoundError for an unknown job;
   * StoreJobStateError 'wrong_device' for a job of another device, 'not_leased' for a job this
   * agent does not hold as stored (queued, done, or leased to another agent). A lease that expired
   * but was not yet returned to the queue is still the agent's: nobody else is running the job.
   */
  failJob(input: FailJobInput): FailOutcome;

  /** The job with this id and its lease bookkeeping, or undefined. */
  getJob(id: string): JobRecord | undefined;

  /** Jobs matching the filter, by campaign age, then task order, then device id. */
  listJobs(filter?: JobFilter): JobRecord[];

  /** How many rows listJobs(filter) would return (status as in JobFilter). */
  countJobs(filter?: JobFilter): number;

  /**
   * Stores kernel profiles (protocol/kernels.ts) atomically: every one is validated
   * (KernelProfileRecordSchema) and its device checked; a network profile's measurement, when
   * named, must be a network-level measurement of that device with the same space and key
   * (StoreReferenceError otherwise), and have no profile yet (StoreConflictError). A profile whose
   * id is stored already is a duplicate, not an error. A profile of a disturbed measurement is
   * stored marked (`disturbed`).
   */
  insertKernelProfiles(profiles: KernelProfileRecord[]): InsertResult;

  /** Kernel profiles matching the filter, their kernels included, by createdAt then id. */
  listKernelProfiles(filter?: KernelProfileFilter): KernelProfileRecord[];

  /** How many rows listKernelProfiles(filter) would return. */
  countKernelProfiles(filter?: KernelProfileFilter): number;

  /** Timed kernels matching the filter, by profile (createdAt, id) then execution order. */
  listTimedKernels(filter?: TimedKernelFilter): StoredTimedKernel[];

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
