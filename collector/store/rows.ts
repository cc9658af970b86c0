import type {
  Campaign,
  CampaignRequest,
  DeviceProfile,
  JobTask,
  KernelProfile,
  KernelProfileRecord,
  Measurement,
  Pass,
} from '../../protocol/index.ts';
import { isDisturbed } from './job-rules.ts';
import type { JobRecord, JobState, JobStatus } from './types.ts';

// Rows as the SQL backends read and write them, and the mapping to and from the protocol's
// objects, once for both: the column names are the same in SQLite and PostgreSQL, json columns
// travel as text (postgres/connect.ts reads them so) and int8 as numbers. The backends differ only
// in how a flag is stored (PostgreSQL bool, SQLite 0/1: `Flag`), which the mapping never reads
// back; a backend converts the flag on the way in (sqlite/*: `flag()`).

/** a boolean column as read back: PostgreSQL `bool`, SQLite 0/1 */
export type Flag = boolean | number;

export interface DeviceRow {
  id: string;
  name: string;
  hardware: string;
  runtime: string;
}

export function deviceFromRow(row: DeviceRow): DeviceProfile {
  return { id: row.id, name: row.name, hardware: JSON.parse(row.hardware), runtime: JSON.parse(row.runtime) };
}

export interface PassRow {
  id: string;
  device_id: string;
  started_at: string;
  finished_at: string | null;
  calibration_key: string;
  calibration_ms: number | null;
  calibration_trace: string;
}

export function passFromRow(row: PassRow): Pass {
  return {
    id: row.id,
    deviceId: row.device_id,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    calibrationKey: row.calibration_key,
    calibrationMs: row.calibration_ms,
    calibrationTrace: JSON.parse(row.calibration_trace) as number[],
  };
}

/** Measurement columns in insert order (without seq, which the database assigns). */
export const MEASUREMENT_COLUMNS = [
  'id', 'device_id', 'pass_id', 'level', 'space', 'key', 'spec', 'batch', 'warmup',
  'median_ms', 'mean_ms', 'p10_ms', 'p90_ms', 'stddev_ms', 'min_ms', 'cv', 'repeats', 'outliers',
  'wall_ms', 'calibration_ms', 'created_at', 'job_id', 'anchor_ms', 'cold', 'quality', 'disturbed',
] as const;

export type MeasurementRow = {
  id: string;
  device_id: string;
  pass_id: string;
  level: 'op' | 'network';
  space: string | null;
  key: string;
  spec: string | null;
  batch: number;
  warmup: number;
  median_ms: number;
  mean_ms: number;
  p10_ms: number;
  p90_ms: number;
  stddev_ms: number;
  min_ms: number;
  cv: number;
  repeats: number;
  outliers: number;
  wall_ms: number;
  calibration_ms: number | null;
  created_at: string;
  job_id: string | null;
  anchor_ms: number | null;
  cold: string | null;
  quality: string | null;
  disturbed: Flag;
};

/** The row of a measurement, its `disturbed` flag as a boolean (sqlite/* converts it to 0/1). */
export function measurementToRow(m: Measurement): MeasurementRow & { disturbed: boolean } {
  return {
    id: m.id,
    device_id: m.deviceId,
    pass_id: m.passId,
    level: m.level,
    space: m.space,
    key: m.key,
    // undefined (no spec sent) is SQL NULL; a spec sent as null is the JSON text 'null'
    spec: m.spec === undefined ? null : JSON.stringify(m.spec),
    batch: m.batch,
    warmup: m.warmup,
    median_ms: m.stats.median,
    mean_ms: m.stats.mean,
    p10_ms: m.stats.p10,
    p90_ms: m.stats.p90,
    stddev_ms: m.stats.stddev,
    min_ms: m.stats.min,
    cv: m.stats.cv,
    repeats: m.stats.repeats,
    outliers: m.stats.outliers,
    wall_ms: m.wallMs,
    calibration_ms: m.calibrationMs,
    created_at: m.createdAt,
    job_id: m.jobId ?? null,
    anchor_ms: m.anchorMs ?? null,
    cold: m.cold ? JSON.stringify(m.cold) : null,
    quality: m.quality ? JSON.stringify(m.quality) : null,
    disturbed: isDisturbed(m),
  };
}

export function measurementFromRow(row: MeasurementRow): Measurement {
  const m: Measurement = {
    id: row.id,
    deviceId: row.device_id,
    passId: row.pass_id,
    level: row.level,
    space: row.space,
    key: row.key,
    batch: row.batch,
    warmup: row.warmup,
    stats: {
      median: row.median_ms,
      mean: row.mean_ms,
      p10: row.p10_ms,
      p90: row.p90_ms,
      stddev: row.stddev_ms,
      min: row.min_ms,
      cv: row.cv,
      repeats: row.repeats,
      outliers: row.outliers,
    },
    wallMs: row.wall_ms,
    calibrationMs: row.calibration_ms,
    createdAt: row.created_at,
  };
  // absent, not null, when nothing was sent (the protocol's optional fields), as SQLite reads them
  if (row.spec !== null) m.spec = JSON.parse(row.spec);
  if (row.job_id !== null) m.jobId = row.job_id;
  if (row.anchor_ms !== null) m.anchorMs = row.anchor_ms;
  if (row.cold !== null) m.cold = JSON.parse(row.cold);
  if (row.quality !== null) m.quality = JSON.parse(row.quality);
  return m;
}

export interface CampaignRow {
  id: string;
  created_at: string;
  request: string;
  all_devices: Flag;
  tasks: number;
}

export function campaignFromRow(row: CampaignRow): Campaign {
  return { id: row.id, createdAt: row.created_at, request: JSON.parse(row.request) as CampaignRequest, tasks: row.tasks };
}

export interface JobRow {
  id: string;
  campaign_id: string;
  task_idx: number;
  device_id: string;
  status: JobStatus;
  lease_id: string | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  attempts: number;
  result_id: string | null;
  done_at: number | null;
  created_at: string;
  failures: number;
  last_error: string | null;
  disturbed: number;
  not_before: number | null;
}

/** A job row with its task's payload and its campaign's request. */
export type JobDetailRow = JobRow & { payload: string; request: string };

export function jobFromRow(row: JobDetailRow): JobRecord {
  return {
    id: row.id,
    campaignId: row.campaign_id,
    task: JSON.parse(row.payload) as JobTask,
    settings: (JSON.parse(row.request) as CampaignRequest).settings,
    deviceId: row.device_id,
    taskIdx: row.task_idx,
    status: row.status,
    attempts: row.attempts,
    failures: row.failures,
    lastError: row.last_error,
    leaseId: row.lease_id,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    resultId: row.result_id,
    doneAt: row.done_at,
    createdAt: row.created_at,
  };
}

export function jobStateFromRow(row: Pick<JobRow, 'id' | 'device_id' | 'campaign_id' | 'task_idx' | 'status' | 'attempts' | 'failures' | 'lease_owner' | 'disturbed'>): JobState {
  return {
    id: row.id,
    deviceId: row.device_id,
    campaignId: row.campaign_id,
    taskIdx: row.task_idx,
    status: row.status,
    attempts: row.attempts,
    failures: row.failures,
    leaseOwner: row.lease_owner,
    disturbed: row.disturbed,
  };
}

export interface ProfileRow {
  id: string;
  device_id: string;
  source: 'network' | 'sample';
  measurement_id: string | null;
  space: string | null;
  key: string;
  spec: string | null;
  batch: number;
  calibration_ms: number | null;
  runs: number;
  warmup: number;
  run_ms: number;
  kernel_sum_ms: number;
  kernels: number;
  disturbed: Flag;
  created_at: string;
}

export const PROFILE_COLUMNS = [
  'id', 'device_id', 'source', 'measurement_id', 'space', 'key', 'spec', 'batch', 'calibration_ms', 'runs', 'warmup',
  'run_ms', 'kernel_sum_ms', 'kernels', 'disturbed', 'created_at',
] as const;

export interface KernelRow {
  profile_id: string;
  position: number;
  device_id: string;
  name: string;
  op: string;
  attrs: string;
  inputs: string;
  outputs: string;
  nodes: string;
  ms: number;
}

export const KERNEL_COLUMNS = ['profile_id', 'position', 'device_id', 'name', 'op', 'attrs', 'inputs', 'outputs', 'nodes', 'ms'] as const;
export function kernelFromRow(r: KernelRow): KernelProfile['kernels'][number] {
  return { op: r.op, attrs: JSON.parse(r.attrs), inputs: JSON.parse(r.inputs), outputs: JSON.parse(r.outputs), nodes: JSON.parse(r.nodes), name: r.name, ms: r.ms };
}

export function kernelRowsOf(r: KernelProfileRecord): KernelRow[] {
  return r.profile.kernels.map((k, position) => ({
    profile_id: r.id,
    position,
    device_id: r.deviceId,
    name: k.name,
    op: k.op,
    attrs: JSON.stringify(k.attrs),
    inputs: JSON.stringify(k.inputs),
    outputs: JSON.stringify(k.outputs),
    nodes: JSON.stringify(k.nodes),
    ms: k.ms,
  }));
}

export function profileFromRow(r: ProfileRow, kernels: KernelRow[]): KernelProfileRecord {
  const record: KernelProfileRecord = {
    id: r.id,
    deviceId: r.device_id,
    source: r.source,
    measurementId: r.measurement_id,
    space: r.space,
    key: r.key,
    batch: r.batch,
    calibrationMs: r.calibration_ms,
    profile: { runs: r.runs, warmup: r.warmup, runMs: r.run_ms, kernelSumMs: r.kernel_sum_ms, kernels: kernels.map(kernelFromRow) },
    createdAt: r.created_at,
  };
  if (r.spec !== null) record.spec = JSON.parse(r.spec);
  return record;
}
