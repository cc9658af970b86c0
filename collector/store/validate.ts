import { z } from 'zod';
import {
  CampaignRequestSchema,
  firstZodIssue,
  JobTaskSchema,
  KernelSourceSchema,
  MAX_JOB_ERROR_CHARS,
  MeasurementLevelSchema,
  PassSchema,
  zodIssuePathSuffix,
} from '../../protocol/index.ts';
import { StoreValidationError } from './errors.ts';

// The argument schemas every Store checks, once (checkedStore applies them before any backend
// sees a call). Protocol objects (devices, passes, measurements, tasks, kernel profiles) use the
// protocol's own schemas; what is here is the store's own arguments.

/**
 * Parses `value` with `schema`, throwing StoreValidationError whose argument is `argument` plus the
 * path of the first issue, so the message says exactly which field of which item is wrong.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, argument: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const { path, message, more } = firstZodIssue(result.error);
  const others = more > 0 ? ` (and ${more} more issue${more > 1 ? 's' : ''})` : '';
  throw new StoreValidationError(argument + zodIssuePathSuffix(path), `${message}${others}`);
}

/** StoreValidationError unless `value` is an array (a batch argument). */
export function requireArray(value: unknown, argument: string): asserts value is unknown[] {
  if (!Array.isArray(value)) {
    throw new StoreValidationError(argument, `must be an array, got ${value === null ? 'null' : typeof value}`);
  }
}

export const IdSchema = z.string().min(1, 'must be a non-empty string');

/** Lease clocks and expiries: epoch milliseconds, as Date.now() gives them. */
export const EpochMsSchema = z.number().int('must be an integer (epoch ms)').min(0);

export const PassFinishSchema = z.strictObject({
  finishedAt: z.string().min(1),
  calibrationMs: PassSchema.shape.calibrationMs,
  calibrationTrace: PassSchema.shape.calibrationTrace,
});

export const MeasurementFilterSchema = z
  .strictObject({
    deviceId: z.string().min(1).optional(),
    level: MeasurementLevelSchema.optional(),
    space: z.string().min(1).nullable().optional(),
    key: z.string().min(1).optional(),
    limit: z.number().int().positive().optional(),
  })
  .optional();

/** As stored, plus 'failed': queued jobs given up after MAX_JOB_FAILURES (see JobFilter). */
const JobFilterStatusSchema = z.enum(['queued', 'leased', 'done', 'failed']);

/** More than this many ids in one heartbeat or release is a caller bug, not a fleet. */
const MAX_LEASE_IDS = 10_000;
const LeaseIdsSchema = z.array(IdSchema).max(MAX_LEASE_IDS).optional();

export const CampaignInputSchema = z.strictObject({
  id: IdSchema.max(200, 'must be at most 200 characters'),
  // campaigns are leased oldest first by this text, so it must sort like time: UTC ISO only
  createdAt: z.iso.datetime('must be an ISO timestamp in UTC, e.g. 2025-01-01T00:00:00.000Z'),
  request: CampaignRequestSchema,
  tasks: z.array(JobTaskSchema).min(1, 'a campaign needs at least one task'),
});

export const LeaseOptionsSchema = z.strictObject({
  deviceId: IdSchema,
  agentId: IdSchema,
  max: z.number().int().min(1).max(10_000),
  ttlMs: z.number().int().positive(),
  now: EpochMsSchema,
});

export const ExtendLeasesOptionsSchema = z.strictObject({
  agentId: IdSchema,
  leaseIds: LeaseIdsSchema,
  expiresAt: EpochMsSchema,
  now: EpochMsSchema,
});

export const ReleaseLeasesOptionsSchema = z.strictObject({ agentId: IdSchema, leaseIds: LeaseIdsSchema });

/** The measurement is validated on its own, so its errors read `measurement.stats.median`. */
export const CompleteJobInputSchema = z.strictObject({
  jobId: IdSchema,
  deviceId: IdSchema,
  measurement: z.unknown(),
  kernels: z.unknown().optional(),
  now: EpochMsSchema.optional(),
});

export const FailJobInputSchema = z.strictObject({
  jobId: IdSchema,
  deviceId: IdSchema,
  agentId: IdSchema,
  error: z
    .string()
    .min(1, 'must be a non-empty string')
    .max(MAX_JOB_ERROR_CHARS, `must be at most ${MAX_JOB_ERROR_CHARS} characters`),
});

export const JobFilterSchema = z
  .strictObject({
    campaignId: z.string().min(1).optional(),
    deviceId: z.string().min(1).optional(),
    status: JobFilterStatusSchema.optional(),
    limit: z.number().int().positive().optional(),
  })
  .optional();

export const KernelProfileFilterSchema = z
  .strictObject({
    deviceId: z.string().min(1).optional(),
    source: KernelSourceSchema.optional(),
    space: z.string().min(1).nullable().optional(),
    key: z.string().min(1).optional(),
    measurementId: z.string().min(1).optional(),
    limit: z.number().int().positive().optional(),
  })
  .optional();

export const TimedKernelFilterSchema = z
  .strictObject({
    deviceId: z.string().min(1).optional(),
    op: z.string().min(1).optional(),
    source: KernelSourceSchema.optional(),
    usableOnly: z.boolean().optional(),
    limit: z.number().int().positive().optional(),
  })
  .optional();

/** JSON text of a value the caller sent; StoreValidationError naming `argument` if it has none. */
export function toJson(value: unknown, argument: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new StoreValidationError(argument, `not JSON-serialisable (${err instanceof Error ? err.message : String(err)})`);
  }
  if (text === undefined) throw new StoreValidationError(argument, `not JSON-serialisable (${typeof value})`);
  return text;
}
