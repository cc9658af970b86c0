/**
 * The collector store's interfaces. The shape (issue 17), for anyone adding a backend:
 *
 * - `Store` is what callers use: asynchronous, backend-neutral, every argument checked.
 * - A backend implements `StoreBackend` (below) and only persists. `checkedStore(backend)`
 *   (checked.ts) turns it into a Store: it refuses calls after close (StoreClosedError), validates
 *   and normalises every argument with the zod schemas of validate.ts (StoreValidationError naming
 *   the field), applies the argument-only rules (a lease's id and expiry, a heartbeat's bounds, a
 *   filter's `limit` on counts), then makes exactly one backend call. So a backend never sees bad
 *   input and never validates.
 * - The rules that need stored state are pure functions and constants in job-rules.ts (leases,
 *   expiry, results judged against their job, failure counts, disturbed requeue, persistent
 *   disturbance, progress buckets) and references.ts (a measurement's device and pass, a kernel
 *   profile's measurement, a re-sent pass or campaign). A backend reads the rows they need and calls
 *   them INSIDE its own transaction, so state changes stay atomic.
 * - Each backend method is one transaction, committed when its promise resolves. SQLite runs it as
 *   a better-sqlite3 IMMEDIATE transaction (one writer per file); PostgreSQL as BEGIN … SELECT …
 *   FOR UPDATE (SKIP LOCKED when leasing) … COMMIT. Two stores on one database must never lease one
 *   job to both, and a result is acknowledged only after its commit: the contract suite
 *   (tests/collector/store-contract.ts) holds every backend to that.
 */
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

/**
 * One result's fate in completeJobs, in the order given: what completeJob would have returned, or
 * the error it would have thrown (StoreValidationError, StoreNotFoundError, StoreJobStateError,
 * StoreConflictError, StoreReferenceError, …).
 */
export type CompleteJobsItem = { outcome: CompleteOutcome } | { error: Error };

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
 * the planner, LUT building and training all go through this interface, so SQLite and PostgreSQL
 * serve them alike. Every method is asynchronous; every write is committed when its promise
 * resolves, so a result may be acknowledged to its agent right after completeJob or
 * insertMeasurements resolves. Build one with checkedStore(backend) (see the top of this file).
 *
 * Errors (collector/store/errors.ts), as rejections: StoreValidationError (a TypeError) for bad
 * arguments, naming the argument path; StoreReferenceError for rows that point at unknown devices
 * or passes; StoreNotFoundError, StoreConflictError, StoreJobStateError, StoreClosedError,
 * StoreUnavailableError (the database cannot be used now; nothing was written).
 *
 * Fleet work: a campaign is a list of device-independent tasks; a job is one task on one device,
 * done exactly once. Agents lease jobs in batches that expire unless heartbeats extend them; an
 * expired or released lease puts its jobs back in the queue; completeJob stores a job's one
 * measurement and marks it done in the same transaction; failJob gives a job its agent cannot run
 * back to the queue, and after MAX_JOB_FAILURES the job is given up (`failed`), so a campaign is
 * finished when every job is done or failed. Lease methods take the clock (`now`, epoch ms) as an
 * argument, so the lease manager and tests decide what time it is. The rules are in job-rules.ts.
 *
 * @example
 * import { openStore } from './collector/index.ts';
 * const store = openStore({ path: '/tmp/hwlat-example.sqlite' });
 * await store.upsertDevice({
 *   id: 'dev-0123456789ab', name: 'laptop',
 *   hardware: { cpu: 'i7', cores: 8, memoryBytes: 16e9, os: 'linux', arch: 'x64', gpus: [] },
 *   runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
 * });
 * await store.startPass({ id: 'pass-1', deviceId: 'dev-0123456789ab', startedAt: new Date().toISOString(),
 *   finishedAt: null, calibrationKey: 'calib-conv', calibrationMs: null, calibrationTrace: [] });
 * console.log(await store.countMeasurements({ deviceId: 'dev-0123456789ab' })); // 0
 * await store.close();
 */
export interface Store {
  /**
   * Creates the device or updates its name, hardware and runtime (its first-seen time is kept).
   * The profile is validated with DeviceProfileSchema.
   */
  upsertDevice(profile: DeviceProfile): Promise<void>;

  /** The device with this id, or undefined. */
  getDevice(id: string): Promise<DeviceProfile | undefined>;

  /** Every device, oldest first, each with its number of stored measurements. */
  listDevices(): Promise<DeviceSummary[]>;

  /**
   * Records the start of a pass. Its device must exist. Starting a pass that already exists with
   * the same device, start time and calibration key is a no-op (an agent re-sending after a
   * reconnect); with different ones it is a StoreConflictError.
   */
  startPass(pass: Pass): Promise<void>;

  /** Records the end of a pass and its calibration; StoreNotFoundError if the pass is unknown. */
  finishPass(id: string, finish: PassFinish): Promise<void>;

  /** The pass with this id, or undefined. */
  getPass(id: string): Promise<Pass | undefined>;

  /**
   * Stores a batch of measurements atomically: every one is validated (MeasurementSchema) and its
   * device and pass checked first, and any failure writes nothing of the batch. Measurements whose
   * id is already stored are ignored and counted as duplicates, so re-sent results are harmless.
   * A measurement with a jobId is refused (StoreValidationError): a job's result goes through
   * completeJob, which also marks the job done.
   */
  insertMeasurements(measurements: Measurement[]): Promise<InsertResult>;

  /** Measurements matching the filter, ordered by createdAt, then id. */
  listMeasurements(filter?: MeasurementFilter): Promise<Measurement[]>;

  /** How many rows listMeasurements(filter) would return (so `limit` caps the count too). */
  countMeasurements(filter?: MeasurementFilter): Promise<number>;

  /**
   * Stores a campaign and its tasks (validated with CampaignRequestSchema and JobTaskSchema) and
   * creates its jobs for every known device it targets: all of them for `devices: 'all'`, else the
   * listed ones, which must all be known (StoreReferenceError naming the unknown ones, nothing
   * written). Creating a campaign that exists with the same content returns it; with other content
   * it is a StoreConflictError.
   */
  createCampaign(input: CampaignInput): Promise<Campaign>;

  /** The campaign with this id (its request with defaults filled in), or undefined. */
  getCampaign(id: string): Promise<Campaign | undefined>;

  /** Every campaign, newest first. */
  listCampaigns(): Promise<Campaign[]>;

  /**
   * Per device that has jobs of the campaign (by device id): how many are queued, leased, done and
   * failed at `now` (epoch ms, default Date.now()); a lease that expired by then counts as queued,
   * a job given up (failures >= MAX_JOB_FAILURES, not done) as failed, not queued. The four add up
   * to total; the campaign is finished on a device when done + failed = total (campaignFinished).
   * StoreNotFoundError for an unknown campaign.
   */
  campaignProgress(id: string, now?: number): Promise<CampaignProgress[]>;

  /**
   * Creates the missing jobs of every campaign that targets this device (all-device campaigns
   * include devices that registered after them); returns how many it created. Call it when a
   * device says hello. StoreReferenceError for an unknown device.
   */
  ensureJobsForDevice(deviceId: string): Promise<number>;

  /**
   * Returns expired leases to the queue, then leases up to `max` of the device's queued jobs
   * (oldest campaign first, in task order) to the agent under one new lease id, expiring at
   * now + ttlMs; each leased job's attempts grow by one. Jobs with MAX_JOB_FAILURES failures are
   * skipped: they were given up.
   */
  leaseJobs(options: LeaseOptions): Promise<LeaseGrant>;

  /** Moves the expiry of the agent's unexpired leases to `expiresAt`; returns how many jobs. */
  extendLeases(options: ExtendLeasesOptions): Promise<number>;

  /** Returns the agent's leased jobs to the queue (e.g. it disconnected); returns how many. */
  releaseLeases(options: ReleaseLeasesOptions): Promise<number>;

  /** Returns every lease that expired by `now` (epoch ms) to the queue; returns how many jobs. */
  expireLeases(now: number): Promise<number>;

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
  completeJob(input: CompleteJobInput): Promise<CompleteOutcome>;

  /**
   * completeJob for several results (an agent's lease answered at once), in one transaction where
   * the backend can: each is judged by the same rules as alone, in order, and a refused one (its
   * error in its place) does not keep the others from being stored. Resolves once everything
   * stored is committed. Rejects (StoreUnavailableError, StoreClosedError, a non-array argument)
   * only when no outcome can be told: what was committed then is recognised as a duplicate when
   * sent again.
   */
  completeJobs(inputs: CompleteJobInput[]): Promise<CompleteJobsItem[]>;

  /**
   * Records that the agent holding a job's lease cannot build or run it, in one transaction: the
   * lease is cleared (the job is queued again), failures grow by one, lastError is `error`. At
   * MAX_JOB_FAILURES the job is given up (`gaveUp`): leaseJobs skips it from then on.
   * StoreValidationError for bad arguments; StoreNotFoundError for an unknown job;
   * StoreJobStateError 'wrong_device' for a job of another device, 'not_leased' for a job this
   * agent does not hold as stored (queued, done, or leased to another agent). A lease that expired
   * but was not yet returned to the queue is still the agent's: nobody else is running the job.
   */
  failJob(input: FailJobInput): Promise<FailOutcome>;

  /** The job with this id and its lease bookkeeping, or undefined. */
  getJob(id: string): Promise<JobRecord | undefined>;

  /** Jobs matching the filter, by campaign age, then task order, then device id. */
  listJobs(filter?: JobFilter): Promise<JobRecord[]>;

  /** How many rows listJobs(filter) would return (status as in JobFilter). */
  countJobs(filter?: JobFilter): Promise<number>;

  /**
   * Stores kernel profiles (protocol/kernels.ts) atomically: every one is validated
   * (KernelProfileRecordSchema) and its device checked; a network profile's measurement, when
   * named, must be a network-level measurement of that device with the same space and key
   * (StoreReferenceError otherwise), and have no profile yet (StoreConflictError). A profile whose
   * id is stored already is a duplicate, not an error. A profile of a disturbed measurement is
   * stored marked (`disturbed`).
   */
  insertKernelProfiles(profiles: KernelProfileRecord[]): Promise<InsertResult>;

  /** Kernel profiles matching the filter, their kernels included, by createdAt then id. */
  listKernelProfiles(filter?: KernelProfileFilter): Promise<KernelProfileRecord[]>;

  /** How many rows listKernelProfiles(filter) would return. */
  countKernelProfiles(filter?: KernelProfileFilter): Promise<number>;

  /** Timed kernels matching the filter, by profile (createdAt, id) then execution order. */
  listTimedKernels(filter?: TimedKernelFilter): Promise<StoredTimedKernel[]>;

  /** Releases the database; idempotent. Any later call rejects with StoreClosedError. */
  close(): Promise<void>;
}

/** A job's lease and bookkeeping state, as the job rules need it (job-rules.ts). */
export interface JobState {
  id: string;
  deviceId: string;
  campaignId: string;
  taskIdx: number;
  status: JobStatus;
  attempts: number;
  failures: number;
  leaseOwner: string | null;
  /** how many times a disturbed result sent it back to the queue */
  disturbed: number;
}

/** What a task measures: a result must match it. */
export interface TaskIdentity {
  level: MeasurementLevel;
  space: string | null;
  key: string;
}

/** A campaign as checkedStore hands it to a backend: validated, tasks unique, devices deduplicated. */
export interface NewCampaign {
  id: string;
  createdAt: string;
  request: CampaignRequest;
  tasks: JobTask[];
  /** the listed devices (deduplicated, in order), or null for `devices: 'all'` */
  devices: string[] | null;
  /** ISO timestamp recorded on the jobs it creates */
  now: string;
}

/** A job's result as checkedStore hands it to a backend (completeJob). */
export interface NewResult {
  jobId: string;
  deviceId: string;
  /** validated; its deviceId is `deviceId` and its jobId is `jobId` */
  measurement: Measurement;
  /** the network's kernels as a record of the measurement (its id is the measurement's), validated */
  kernels?: KernelProfileRecord;
  /** epoch ms: the job's doneAt, and the base of a disturbed requeue's hold-back */
  now: number;
}

/**
 * What a database backend implements; see the top of this file. Every argument was validated by
 * checkedStore, filters included (an absent filter arrives as `{}`), and the store is open. Each
 * method is one transaction; a backend turns its own "cannot use the database now" errors into
 * StoreUnavailableError, and calls the rules of job-rules.ts and references.ts inside the
 * transaction for the checks that need stored rows, so every backend throws the same errors.
 */
export interface StoreBackend {
  /** how errors name the database: a file path, or a URL without its password */
  readonly label: string;

  /** `now`: ISO timestamp recorded as created/updated time */
  upsertDevice(profile: DeviceProfile, now: string): Promise<void>;
  getDevice(id: string): Promise<DeviceProfile | undefined>;
  listDevices(): Promise<DeviceSummary[]>;

  /** device must exist (references.unknownDevice); an existing id is compared with references.checkSamePass */
  startPass(pass: Pass): Promise<void>;
  /** false when the pass is unknown (checkedStore throws StoreNotFoundError) */
  finishPass(id: string, finish: PassFinish): Promise<boolean>;
  getPass(id: string): Promise<Pass | undefined>;

  /**
   * Non-empty batch, none with a jobId. references.checkMeasurementReferences first, then each row
   * unless its id is stored; returns how many were inserted. A measurement is disturbed when
   * job-rules.isDisturbed says so (stored as a column: LUTs and predictors filter on it).
   */
  insertMeasurements(measurements: readonly Measurement[]): Promise<number>;
  listMeasurements(filter: MeasurementFilter): Promise<Measurement[]>;
  /** the count of matching rows; checkedStore caps it at `limit` */
  countMeasurements(filter: MeasurementFilter): Promise<number>;

  /**
   * An existing id: references.checkSameCampaign, then return it. Else listed devices must exist
   * (references.unknownDevices), then store the campaign, its tasks and its jobs (job-rules.jobId).
   */
  createCampaign(campaign: NewCampaign): Promise<Campaign>;
  getCampaign(id: string): Promise<Campaign | undefined>;
  listCampaigns(): Promise<Campaign[]>;
  /** undefined for an unknown campaign; buckets as job-rules.progressBucket */
  campaignProgress(id: string, now: number): Promise<CampaignProgress[] | undefined>;
  /** undefined for an unknown device; else how many jobs it created. `now`: ISO, the jobs' createdAt */
  ensureJobsForDevice(deviceId: string, now: string): Promise<number | undefined>;

  /**
   * Returns expired leases to the queue (job-rules.leaseExpired), then leases up to `max` of the
   * device's leasable jobs (job-rules.isLeasable), oldest campaign first (createdAt, id), then task
   * order, under `leaseId` until now + ttlMs; attempts + 1 each. Never hands a job to two callers,
   * whatever runs beside it. Returns the jobs leased ([] for none).
   */
  leaseJobs(options: LeaseOptions, leaseId: string): Promise<Job[]>;
  /** leaseIds absent: all of the agent's; never [] (checkedStore answers 0). Expiry never shortened. */
  extendLeases(options: ExtendLeasesOptions): Promise<number>;
  releaseLeases(options: ReleaseLeasesOptions): Promise<number>;
  expireLeases(now: number): Promise<number>;

  /**
   * Locks the job, judges the result with job-rules.judgeResult ('duplicate': write nothing),
   * checks references, stores the measurement (and `kernels`), then job-rules.afterResult says
   * whether the job is done or queued again; one transaction.
   */
  completeJob(result: NewResult): Promise<CompleteOutcome>;
  /**
   * completeJob for each result, in order, one transaction where possible; a result the rules
   * refuse gets its error in its place (nothing of it written) and the others are still stored.
   * Rejects only with StoreUnavailableError (or an error no result can be blamed for).
   */
  completeJobs(results: readonly NewResult[]): Promise<Array<CompleteOutcome | Error>>;
  /** Locks the job, job-rules.judgeFailure, then clears the lease and counts the failure. */
  failJob(input: FailJobInput): Promise<FailOutcome>;
  getJob(id: string): Promise<JobRecord | undefined>;
  listJobs(filter: JobFilter): Promise<JobRecord[]>;
  /** the count of matching rows; checkedStore caps it at `limit` */
  countJobs(filter: JobFilter): Promise<number>;

  /** Non-empty, validated; references.checkKernelProfile for each; returns how many were inserted. */
  insertKernelProfiles(profiles: readonly KernelProfileRecord[]): Promise<number>;
  listKernelProfiles(filter: KernelProfileFilter): Promise<KernelProfileRecord[]>;
  /** the count of matching rows; checkedStore caps it at `limit` */
  countKernelProfiles(filter: KernelProfileFilter): Promise<number>;
  listTimedKernels(filter: TimedKernelFilter): Promise<StoredTimedKernel[]>;

  /** Called once, by the first Store.close(). */
  close(): Promise<void>;
}
