import { randomUUID } from 'node:crypto';
import {
  DeviceProfileSchema,
  KernelProfileRecordSchema,
  KernelProfileSchema,
  MeasurementSchema,
  PassSchema,
  type Campaign,
  type CampaignProgress,
  type DeviceProfile,
  type KernelProfileRecord,
  type Measurement,
  type Pass,
} from '../../protocol/index.ts';
import { StoreClosedError, StoreNotFoundError, StoreReferenceError, StoreValidationError } from './errors.ts';
import type {
  CampaignInput,
  CompleteJobInput,
  CompleteJobsItem,
  CompleteOutcome,
  DeviceSummary,
  ExtendLeasesOptions,
  FailJobInput,
  FailOutcome,
  InsertResult,
  JobFilter,
  JobRecord,
  KernelProfileFilter,
  LeaseGrant,
  LeaseOptions,
  MeasurementFilter,
  NewResult,
  PassFinish,
  ReleaseLeasesOptions,
  Store,
  StoreBackend,
  StoredTimedKernel,
  TimedKernelFilter,
} from './types.ts';
import {
  CampaignInputSchema,
  CompleteJobInputSchema,
  EpochMsSchema,
  ExtendLeasesOptionsSchema,
  FailJobInputSchema,
  IdSchema,
  JobFilterSchema,
  KernelProfileFilterSchema,
  LeaseOptionsSchema,
  MeasurementFilterSchema,
  PassFinishSchema,
  ReleaseLeasesOptionsSchema,
  TimedKernelFilterSchema,
  requireArray,
  toJson,
  validate,
} from './validate.ts';

/** A count capped by the filter's `limit`, so countX(filter) is listX(filter).length. */
function capped(n: number, limit: number | undefined): number {
  return limit === undefined ? n : Math.min(n, limit);
}

/** StoreValidationError unless the measurement's free-form parts can be stored as JSON. */
function checkJsonParts(m: Measurement, argument: string): void {
  if (m.spec !== undefined) toJson(m.spec, `${argument}.spec`);
}

/** A result as completeJob takes it, validated and made a NewResult (throws StoreValidationError). */
function newResult(input: CompleteJobInput): NewResult {
  const o = validate(CompleteJobInputSchema, input, 'input');
  const m = validate(MeasurementSchema, o.measurement, 'measurement');
  if (m.deviceId !== o.deviceId) {
    throw new StoreValidationError('measurement.deviceId', `'${m.deviceId}' is not the sending device '${o.deviceId}'`);
  }
  if (m.jobId != null && m.jobId !== o.jobId) {
    throw new StoreValidationError('measurement.jobId', `'${m.jobId}' is not the job being completed, '${o.jobId}'`);
  }
  const measurement: Measurement = { ...m, jobId: o.jobId };
  checkJsonParts(measurement, 'measurement');
  let kernels: KernelProfileRecord | undefined;
  if (o.kernels !== undefined) {
    const profile = validate(KernelProfileSchema, o.kernels, 'kernels');
    // the network's kernels become a profile of its measurement (same id), stored with it
    kernels = validate(
      KernelProfileRecordSchema,
      {
        id: m.id, deviceId: m.deviceId, source: 'network', measurementId: m.id, space: m.space, key: m.key,
        batch: m.batch, calibrationMs: m.calibrationMs, profile, createdAt: m.createdAt,
      },
      'kernels',
    );
  }
  return { jobId: o.jobId, deviceId: o.deviceId, measurement, ...(kernels ? { kernels } : {}), now: o.now ?? Date.now() };
}

/**
 * A Store over a backend: the closed check, argument validation and the argument-only rules,
 * then one backend call (types.ts describes the split). Backends subclass it to add their own
 * diagnostics (SqliteStore: journal mode, migrations), or pass a backend to checkedStore.
 */
export class CheckedStore<B extends StoreBackend = StoreBackend> implements Store {
  readonly #backend: B;
  #open = true;

  constructor(backend: B) {
    this.#backend = backend;
  }

  /** how errors name the database (the backend's label) */
  get label(): string {
    return this.#backend.label;
  }

  /** The backend, for subclasses' diagnostics. Throws StoreClosedError after close. */
  protected live(method: string): B {
    if (!this.#open) throw new StoreClosedError(this.#backend.label, method);
    return this.#backend;
  }

  async upsertDevice(profile: DeviceProfile): Promise<void> {
    const b = this.live('upsertDevice');
    return b.upsertDevice(validate(DeviceProfileSchema, profile, 'profile'), new Date().toISOString());
  }

  async getDevice(id: string): Promise<DeviceProfile | undefined> {
    const b = this.live('getDevice');
    return b.getDevice(validate(IdSchema, id, 'id'));
  }

  async listDevices(): Promise<DeviceSummary[]> {
    return this.live('listDevices').listDevices();
  }

  async startPass(pass: Pass): Promise<void> {
    const b = this.live('startPass');
    return b.startPass(validate(PassSchema, pass, 'pass'));
  }

  async finishPass(id: string, finish: PassFinish): Promise<void> {
    const b = this.live('finishPass');
    const passId = validate(IdSchema, id, 'id');
    const f = validate(PassFinishSchema, finish, 'finish');
    if (!(await b.finishPass(passId, f))) throw new StoreNotFoundError('pass', passId, 'finishPass');
  }

  async getPass(id: string): Promise<Pass | undefined> {
    const b = this.live('getPass');
    return b.getPass(validate(IdSchema, id, 'id'));
  }

  async insertMeasurements(measurements: Measurement[]): Promise<InsertResult> {
    const b = this.live('insertMeasurements');
    requireArray(measurements, 'measurements');
    // Validate everything before writing: one bad result must not leave half a batch.
    const valid = measurements.map((m, i) => {
      const v = validate(MeasurementSchema, m, `measurements[${i}]`);
      if (v.jobId != null) {
        throw new StoreValidationError(
          `measurements[${i}].jobId`,
          `the result of job '${v.jobId}' must be stored with completeJob, which also marks the job done`,
        );
      }
      checkJsonParts(v, `measurements[${i}]`);
      return v;
    });
    if (valid.length === 0) return { inserted: 0, duplicates: 0 };
    const inserted = await b.insertMeasurements(valid);
    return { inserted, duplicates: valid.length - inserted };
  }

  async listMeasurements(filter?: MeasurementFilter): Promise<Measurement[]> {
    const b = this.live('listMeasurements');
    return b.listMeasurements(validate(MeasurementFilterSchema, filter, 'filter') ?? {});
  }

  async countMeasurements(filter?: MeasurementFilter): Promise<number> {
    const b = this.live('countMeasurements');
    const f = validate(MeasurementFilterSchema, filter, 'filter') ?? {};
    return capped(await b.countMeasurements(f), f.limit);
  }

  async createCampaign(input: CampaignInput): Promise<Campaign> {
    const b = this.live('createCampaign');
    const c = validate(CampaignInputSchema, input, 'campaign');
    toJson(c.request, 'campaign.request');
    const seen = new Map<string, number>();
    c.tasks.forEach((task, i) => {
      const identity = JSON.stringify([task.level, task.space, task.key]);
      const first = seen.get(identity);
      if (first !== undefined) {
        throw new StoreValidationError(
          `campaign.tasks[${i}]`,
          `repeats tasks[${first}] (${task.level} '${task.key}'); each task is measured once per device`,
        );
      }
      seen.set(identity, i);
      toJson(task, `campaign.tasks[${i}]`);
    });
    const devices = c.request.devices === 'all' ? null : [...new Set(c.request.devices)];
    return b.createCampaign({ ...c, devices, now: new Date().toISOString() });
  }

  async getCampaign(id: string): Promise<Campaign | undefined> {
    const b = this.live('getCampaign');
    return b.getCampaign(validate(IdSchema, id, 'id'));
  }

  async listCampaigns(): Promise<Campaign[]> {
    return this.live('listCampaigns').listCampaigns();
  }

  async campaignProgress(id: string, now?: number): Promise<CampaignProgress[]> {
    const b = this.live('campaignProgress');
    const campaignId = validate(IdSchema, id, 'id');
    const at = validate(EpochMsSchema.optional(), now, 'now') ?? Date.now();
    const progress = await b.campaignProgress(campaignId, at);
    if (progress === undefined) throw new StoreNotFoundError('campaign', campaignId, 'campaignProgress');
    return progress;
  }

  async ensureJobsForDevice(deviceId: string): Promise<number> {
    const b = this.live('ensureJobsForDevice');
    const id = validate(IdSchema, deviceId, 'deviceId');
    const created = await b.ensureJobsForDevice(id, new Date().toISOString());
    if (created === undefined) throw new StoreReferenceError('deviceId', `unknown device '${id}'; upsertDevice it first`);
    return created;
  }

  async leaseJobs(options: LeaseOptions): Promise<LeaseGrant> {
    const b = this.live('leaseJobs');
    const o = validate(LeaseOptionsSchema, options, 'options');
    const leaseId = randomUUID();
    const jobs = await b.leaseJobs(o, leaseId);
    return jobs.length === 0 ? { leaseId: null, jobs: [], expiresAt: null } : { leaseId, jobs, expiresAt: o.now + o.ttlMs };
  }

  async extendLeases(options: ExtendLeasesOptions): Promise<number> {
    const b = this.live('extendLeases');
    const o = validate(ExtendLeasesOptionsSchema, options, 'options');
    if (o.expiresAt <= o.now) throw new StoreValidationError('options.expiresAt', `must be after now (${o.expiresAt} ≤ ${o.now})`);
    if (o.leaseIds !== undefined && o.leaseIds.length === 0) return 0;
    return b.extendLeases(o);
  }

  async releaseLeases(options: ReleaseLeasesOptions): Promise<number> {
    const b = this.live('releaseLeases');
    const o = validate(ReleaseLeasesOptionsSchema, options, 'options');
    if (o.leaseIds !== undefined && o.leaseIds.length === 0) return 0;
    return b.releaseLeases(o);
  }

  async expireLeases(now: number): Promise<number> {
    const b = this.live('expireLeases');
    return b.expireLeases(validate(EpochMsSchema, now, 'now'));
  }

  async completeJob(input: CompleteJobInput): Promise<CompleteOutcome> {
    const b = this.live('completeJob');
    return b.completeJob(newResult(input));
  }

  async completeJobs(inputs: CompleteJobInput[]): Promise<CompleteJobsItem[]> {
    const b = this.live('completeJobs');
    requireArray(inputs, 'inputs');
    // each input is checked as completeJob checks it alone (its errors name the same arguments),
    // and a bad one keeps its error in its place while the others go to the backend together
    const items: Array<CompleteJobsItem | NewResult> = inputs.map((input) => {
      try {
        return newResult(input);
      } catch (error) {
        return { error: error as Error };
      }
    });
    const valid = items.filter((x): x is NewResult => !('error' in x));
    const outcomes = valid.length === 0 ? [] : await b.completeJobs(valid);
    let next = 0;
    return items.map((x) => {
      if ('error' in x) return x;
      const o = outcomes[next++]!;
      return o instanceof Error ? { error: o } : { outcome: o };
    });
  }

  async failJob(input: FailJobInput): Promise<FailOutcome> {
    const b = this.live('failJob');
    return b.failJob(validate(FailJobInputSchema, input, 'input'));
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const b = this.live('getJob');
    return b.getJob(validate(IdSchema, id, 'id'));
  }

  async listJobs(filter?: JobFilter): Promise<JobRecord[]> {
    const b = this.live('listJobs');
    return b.listJobs(validate(JobFilterSchema, filter, 'filter') ?? {});
  }

  async countJobs(filter?: JobFilter): Promise<number> {
    const b = this.live('countJobs');
    const f = validate(JobFilterSchema, filter, 'filter') ?? {};
    return capped(await b.countJobs(f), f.limit);
  }

  async insertKernelProfiles(profiles: KernelProfileRecord[]): Promise<InsertResult> {
    const b = this.live('insertKernelProfiles');
    requireArray(profiles, 'profiles');
    const valid = profiles.map((r, i) => {
      const v = validate(KernelProfileRecordSchema, r, `profiles[${i}]`);
      if (v.spec !== undefined) toJson(v.spec, `profiles[${i}].spec`);
      return v;
    });
    if (valid.length === 0) return { inserted: 0, duplicates: 0 };
    const inserted = await b.insertKernelProfiles(valid);
    return { inserted, duplicates: valid.length - inserted };
  }

  async listKernelProfiles(filter?: KernelProfileFilter): Promise<KernelProfileRecord[]> {
    const b = this.live('listKernelProfiles');
    return b.listKernelProfiles(validate(KernelProfileFilterSchema, filter, 'filter') ?? {});
  }

  async countKernelProfiles(filter?: KernelProfileFilter): Promise<number> {
    const b = this.live('countKernelProfiles');
    const f = validate(KernelProfileFilterSchema, filter, 'filter') ?? {};
    return capped(await b.countKernelProfiles(f), f.limit);
  }

  async listTimedKernels(filter?: TimedKernelFilter): Promise<StoredTimedKernel[]> {
    const b = this.live('listTimedKernels');
    return b.listTimedKernels(validate(TimedKernelFilterSchema, filter, 'filter') ?? {});
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.#backend.close();
  }
}

/** The Store over `backend`: every argument checked before the backend sees it (types.ts). */
export function checkedStore(backend: StoreBackend): Store {
  return new CheckedStore(backend);
}
