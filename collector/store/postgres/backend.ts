import type pg from 'pg';
import type {
  Campaign,
  CampaignProgress,
  DeviceProfile,
  Job,
  KernelProfileRecord,
  Measurement,
  Pass,
} from '../../../protocol/index.ts';
import type { AppliedMigration } from '../migrate.ts';
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
import * as campaigns from './campaigns.ts';
import { PgDb } from './db.ts';
import * as devices from './devices-passes.ts';
import * as jobs from './jobs.ts';
import * as kernels from './kernel-profiles.ts';
import * as measurements from './measurements.ts';
import { appliedPgMigrations } from './migrate.ts';

/**
 * The PostgreSQL backend: one pg Pool, every method one statement or one transaction on one
 * connection. It only persists: checkedStore (checked.ts) validates arguments first, and the
 * rules that need stored rows come from job-rules.ts and references.ts, called inside the
 * transactions. Create it with openPostgresStore (open.ts), which connects, checks the server and
 * migrates first.
 */
export class PostgresBackend implements StoreBackend {
  readonly #db: PgDb;

  /** @param migrationsApplied the versions the open that made this backend applied */
  constructor(
    pool: pg.Pool,
    readonly label: string,
    readonly migrationsApplied: readonly number[] = [],
  ) {
    this.#db = new PgDb(pool, label);
  }

  /** The pool, for tools that copy whole tables (collector/store/copy). */
  get pool(): pg.Pool {
    return this.#db.pool;
  }

  upsertDevice(profile: DeviceProfile, now: string): Promise<void> {
    return devices.upsertDevice(this.#db, profile, now);
  }
  getDevice(id: string): Promise<DeviceProfile | undefined> {
    return devices.getDevice(this.#db, id);
  }
  listDevices(): Promise<DeviceSummary[]> {
    return devices.listDevices(this.#db);
  }
  startPass(pass: Pass): Promise<void> {
    return devices.startPass(this.#db, pass);
  }
  finishPass(id: string, finish: PassFinish): Promise<boolean> {
    return devices.finishPass(this.#db, id, finish);
  }
  getPass(id: string): Promise<Pass | undefined> {
    return devices.getPass(this.#db, id);
  }

  insertMeasurements(ms: readonly Measurement[]): Promise<number> {
    return measurements.insertMeasurements(this.#db, ms);
  }
  listMeasurements(filter: MeasurementFilter): Promise<Measurement[]> {
    return measurements.listMeasurements(this.#db, filter);
  }
  countMeasurements(filter: MeasurementFilter): Promise<number> {
    return measurements.countMeasurements(this.#db, filter);
  }

  createCampaign(campaign: NewCampaign): Promise<Campaign> {
    return campaigns.createCampaign(this.#db, campaign);
  }
  getCampaign(id: string): Promise<Campaign | undefined> {
    return campaigns.getCampaign(this.#db, id);
  }
  listCampaigns(): Promise<Campaign[]> {
    return campaigns.listCampaigns(this.#db);
  }
  campaignProgress(id: string, now: number): Promise<CampaignProgress[] | undefined> {
    return campaigns.campaignProgress(this.#db, id, now);
  }
  ensureJobsForDevice(deviceId: string, now: string): Promise<number | undefined> {
    return campaigns.ensureJobsForDevice(this.#db, deviceId, now);
  }

  leaseJobs(options: LeaseOptions, leaseId: string): Promise<Job[]> {
    return jobs.leaseJobs(this.#db, options, leaseId);
  }
  extendLeases(options: ExtendLeasesOptions): Promise<number> {
    return jobs.extendLeases(this.#db, options);
  }
  releaseLeases(options: ReleaseLeasesOptions): Promise<number> {
    return jobs.releaseLeases(this.#db, options);
  }
  expireLeases(now: number): Promise<number> {
    return jobs.expireLeases(this.#db, now);
  }
  completeJob(result: NewResult): Promise<CompleteOutcome> {
    return jobs.completeJob(this.#db, result);
  }
  completeJobs(results: readonly NewResult[]): Promise<Array<CompleteOutcome | Error>> {
    return jobs.completeJobs(this.#db, results);
  }
  failJob(input: FailJobInput): Promise<FailOutcome> {
    return jobs.failJob(this.#db, input);
  }
  getJob(id: string): Promise<JobRecord | undefined> {
    return jobs.getJob(this.#db, id);
  }
  listJobs(filter: JobFilter): Promise<JobRecord[]> {
    return jobs.listJobs(this.#db, filter);
  }
  countJobs(filter: JobFilter): Promise<number> {
    return jobs.countJobs(this.#db, filter);
  }

  insertKernelProfiles(profiles: readonly KernelProfileRecord[]): Promise<number> {
    return kernels.insertKernelProfiles(this.#db, profiles);
  }
  listKernelProfiles(filter: KernelProfileFilter): Promise<KernelProfileRecord[]> {
    return kernels.listKernelProfiles(this.#db, filter);
  }
  countKernelProfiles(filter: KernelProfileFilter): Promise<number> {
    return kernels.countKernelProfiles(this.#db, filter);
  }
  listTimedKernels(filter: TimedKernelFilter): Promise<StoredTimedKernel[]> {
    return kernels.listTimedKernels(this.#db, filter);
  }

  /** Every migration the database has applied, with when. */
  async appliedMigrations(): Promise<AppliedMigration[]> {
    const c = await this.#db.pool.connect();
    const ignore = (): void => {}; // a lost connection fails the query below
    c.on('error', ignore);
    try {
      return await appliedPgMigrations(c);
    } finally {
      c.off('error', ignore);
      c.release();
    }
  }

  close(): Promise<void> {
    return this.#db.pool.end();
  }
}
