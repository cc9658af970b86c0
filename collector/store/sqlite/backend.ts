import Database from 'better-sqlite3';
import type { Database as SqliteDb } from 'better-sqlite3';
import type { Campaign, CampaignProgress, DeviceProfile, Job, KernelProfileRecord, Measurement, Pass } from '../../../protocol/index.ts';
import { StoreConflictError, StoreReferenceError } from '../errors.ts';
import { PERSISTENT_WINDOW, afterResult, judgeFailure, judgeResult } from '../job-rules.ts';
import { checkCampaignDevices, checkMeasurementReferences, checkSameCampaign, checkSamePass, unknownDevice } from '../references.ts';
import type {
  CompleteOutcome,
  DeviceSummary,
  ExtendLeasesOptions,
  FailJobInput,
  FailOutcome,
  JobFilter,
  JobRecord,
  KernelProfileFilter,
  LeaseOptions,
  MeasurementFilter,
  NewCampaign,
  NewResult,
  PassFinish,
  ReleaseLeasesOptions,
  StoreBackend,
  StoredTimedKernel,
  TimedKernelFilter,
} from '../types.ts';
import { DeviceTables } from './devices.ts';
import { CampaignJobTables } from './jobs.ts';
import { KernelProfileTable } from './kernel-profiles.ts';
import { MeasurementTable } from './measurements.ts';
import { appliedMigrations, type AppliedMigration } from '../migrate.ts';
import { asUnavailable, guardUnavailable } from './unavailable.ts';

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A foreign key the checks missed, as the StoreReferenceError completeJob throws; other errors as they are. */
function asReferenceError(err: unknown): unknown {
  if (!isForeignKeyError(err)) return err;
  return new StoreReferenceError('measurement', `a device, pass or job it refers to does not exist (${reasonOf(err)})`);
}

function isForeignKeyError(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * The SQLite backend: one better-sqlite3 connection, one table object per aggregate. Every write
 * is an IMMEDIATE transaction: it takes the file's write lock before it reads, so a second
 * connection (another collector on the same file) waits (busy timeout) instead of leasing the same
 * job. Methods are async to fit StoreBackend, but each runs to its commit without yielding.
 */
export class SqliteBackend implements StoreBackend {
  readonly #db: SqliteDb;
  readonly #devices: DeviceTables;
  readonly #measurements: MeasurementTable;
  readonly #jobs: CampaignJobTables;
  readonly #kernels: KernelProfileTable;

  constructor(
    db: SqliteDb,
    readonly label: string,
  ) {
    this.#db = db;
    this.#devices = new DeviceTables(db);
    this.#measurements = new MeasurementTable(db);
    this.#jobs = new CampaignJobTables(db);
    this.#kernels = new KernelProfileTable(db);
  }

  /** Runs `fn` as one IMMEDIATE transaction (the write lock first). */
  #write<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /** Runs `fn` as one read transaction: its reads see one snapshot. */
  #read<T>(fn: () => T): T {
    return this.#db.transaction(fn).deferred();
  }

  async upsertDevice(profile: DeviceProfile, now: string): Promise<void> {
    this.#devices.upsert(profile, now);
  }

  async getDevice(id: string): Promise<DeviceProfile | undefined> {
    return this.#devices.get(id);
  }

  async listDevices(): Promise<DeviceSummary[]> {
    return this.#devices.list();
  }

  async startPass(pass: Pass): Promise<void> {
    this.#write(() => {
      if (!this.#devices.exists(pass.deviceId)) throw unknownDevice('pass.deviceId', pass.deviceId);
      const existing = this.#devices.getPass(pass.id);
      if (existing !== undefined) return checkSamePass(existing, pass); // the same pass re-sent after a reconnect
      this.#devices.insertPass(pass);
    });
  }

  async finishPass(id: string, finish: PassFinish): Promise<boolean> {
    return this.#devices.finishPass(id, finish);
  }

  async getPass(id: string): Promise<Pass | undefined> {
    return this.#devices.getPass(id);
  }

  /** StoreReferenceError naming the measurement whose device or pass is unknown. */
  #checkReferences(measurements: readonly Measurement[], label: (i: number) => string): void {
    checkMeasurementReferences(
      measurements,
      this.#devices.known(measurements.map((m) => m.deviceId)),
      this.#devices.passOwners(measurements.map((m) => m.passId)),
      label,
    );
  }

  async insertMeasurements(measurements: readonly Measurement[]): Promise<number> {
    try {
      return this.#write(() => {
        this.#checkReferences(measurements, (i) => `measurements[${i}]`);
        return measurements.reduce((n, m) => n + (this.#measurements.insert(m) ? 1 : 0), 0);
      });
    } catch (err) {
      // the reference check names the culprit; this is the backstop should the two ever disagree
      if (isForeignKeyError(err)) {
        throw new StoreReferenceError('measurements', `a device or pass they refer to does not exist (${reasonOf(err)})`);
      }
      throw err;
    }
  }

  async listMeasurements(filter: MeasurementFilter): Promise<Measurement[]> {
    return this.#measurements.list(filter);
  }

  async countMeasurements(filter: MeasurementFilter): Promise<number> {
    return this.#measurements.count(filter);
  }

  async createCampaign(campaign: NewCampaign): Promise<Campaign> {
    return this.#write(() => {
      const existing = this.#jobs.getCampaign(campaign.id);
      if (existing !== undefined) {
        checkSameCampaign({ campaign: existing, tasks: this.#jobs.tasks(campaign.id) }, campaign);
        return existing; // the same campaign posted again
      }
      if (campaign.devices !== null) checkCampaignDevices(campaign.devices, this.#devices.known(campaign.devices));
      return this.#jobs.insertCampaign(campaign);
    });
  }

  async getCampaign(id: string): Promise<Campaign | undefined> {
    return this.#jobs.getCampaign(id);
  }

  async listCampaigns(): Promise<Campaign[]> {
    return this.#jobs.listCampaigns();
  }

  async campaignProgress(id: string, now: number): Promise<CampaignProgress[] | undefined> {
    // the existence check and the counts see the same snapshot
    return this.#read(() => (this.#jobs.getCampaign(id) === undefined ? undefined : this.#jobs.progress(id, now)));
  }

  async ensureJobsForDevice(deviceId: string, now: string): Promise<number | undefined> {
    return this.#write(() => (this.#devices.exists(deviceId) ? this.#jobs.ensureJobsForDevice(deviceId, now) : undefined));
  }

  async leaseJobs(options: LeaseOptions, leaseId: string): Promise<Job[]> {
    // IMMEDIATE: choosing the queued jobs and marking them leased must be one step for every
    // writer, or two collectors on the same file could lease a job twice.
    return this.#write(() => {
      this.#jobs.expireLeases(options.now);
      return this.#jobs.lease(options, leaseId);
    });
  }

  async extendLeases(options: ExtendLeasesOptions): Promise<number> {
    return this.#jobs.extend(options); // one statement is one transaction
  }

  async releaseLeases(options: ReleaseLeasesOptions): Promise<number> {
    return this.#jobs.release(options);
  }

  async expireLeases(now: number): Promise<number> {
    return this.#jobs.expireLeases(now);
  }

  /** completeJob's work, inside the caller's transaction. */
  #complete(result: NewResult): CompleteOutcome {
    const job = this.#jobs.jobState(result.jobId);
    const verdict = judgeResult({
      result,
      job,
      storedJobOfResult: this.#measurements.jobOf(result.measurement.id),
      task: job && this.#jobs.task(job.campaignId, job.taskIdx),
      conflict: (reason) => new StoreConflictError('measurement', result.measurement.id, reason),
    });
    if (verdict === 'duplicate' || job === undefined) return 'duplicate';
    this.#checkReferences([result.measurement], () => 'measurement');
    this.#measurements.insert(result.measurement);
    // the network's kernels go with its measurement, in the same transaction (marked if it is disturbed)
    if (result.kernels !== undefined) this.#kernels.write(result.kernels, 'kernels');
    const next = afterResult({ result, job, recent: () => this.#measurements.recentDisturbed(result.deviceId, PERSISTENT_WINDOW) });
    if (next.outcome === 'requeued') {
      this.#jobs.requeueDisturbed(result.jobId, next.notBefore);
      return 'requeued';
    }
    this.#jobs.markDone(result.jobId, result.measurement.id, result.now);
    return 'stored';
  }

  async completeJob(result: NewResult): Promise<CompleteOutcome> {
    try {
      return this.#write(() => this.#complete(result));
    } catch (err) {
      throw asReferenceError(err);
    }
  }

  async completeJobs(results: readonly NewResult[]): Promise<Array<CompleteOutcome | Error>> {
    // one IMMEDIATE transaction (one commit, one fsync), each result in a savepoint of its own
    // (a nested better-sqlite3 transaction): a refused result is rolled back alone
    return this.#write(() =>
      results.map((r): CompleteOutcome | Error => {
        try {
          return this.#db.transaction(() => this.#complete(r))();
        } catch (err) {
          // a full disk or an I/O error is no fault of this result: the whole call fails
          if (asUnavailable(this.label, 'completeJobs', err) !== null || !(err instanceof Error)) throw err;
          return asReferenceError(err) as Error;
        }
      }),
    );
  }

  async failJob(input: FailJobInput): Promise<FailOutcome> {
    // IMMEDIATE: the lease check and the update must see the same row, or a failure could clear a
    // lease that another agent took in between.
    return this.#write(() => {
      const outcome = judgeFailure(input, this.#jobs.jobState(input.jobId));
      this.#jobs.markFailed(input.jobId, input.agentId, input.error);
      return outcome;
    });
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    return this.#jobs.getJob(id);
  }

  async listJobs(filter: JobFilter): Promise<JobRecord[]> {
    return this.#jobs.listJobs(filter);
  }

  async countJobs(filter: JobFilter): Promise<number> {
    return this.#jobs.countJobs(filter);
  }

  async insertKernelProfiles(profiles: readonly KernelProfileRecord[]): Promise<number> {
    return this.#write(() => this.#kernels.insert(profiles));
  }

  async listKernelProfiles(filter: KernelProfileFilter): Promise<KernelProfileRecord[]> {
    return this.#kernels.list(filter);
  }

  async countKernelProfiles(filter: KernelProfileFilter): Promise<number> {
    return this.#kernels.count(filter);
  }

  async listTimedKernels(filter: TimedKernelFilter): Promise<StoredTimedKernel[]> {
    return this.#kernels.listKernels(filter);
  }

  /** 'wal' for a file database ('memory' for ':memory:'). */
  journalMode(): string {
    return String(this.#db.pragma('journal_mode', { simple: true }));
  }

  /** Every migration the database has applied, with when. */
  appliedMigrations(): AppliedMigration[] {
    return appliedMigrations(this.#db);
  }

  async close(): Promise<void> {
    try {
      // SQLite's advice for long-lived connections: refresh planner statistics on close
      this.#db.pragma('optimize');
    } catch {
      // best effort: a failed optimisation must not keep the file open
    }
    this.#db.close();
  }
}

// a full disk, an I/O error or a lasting lock reaches callers as StoreUnavailableError
guardUnavailable(SqliteBackend, (backend: SqliteBackend) => backend.label);
