import type { Measurement } from '../../protocol/index.ts';
import { StoreJobStateError, StoreNotFoundError, StoreValidationError } from './errors.ts';
import type { CampaignProgress } from '../../protocol/index.ts';
import type { FailJobInput, FailOutcome, JobState, JobStatus, NewResult, TaskIdentity } from './types.ts';

// The job queue's rules, once for every backend (types.ts says how they are used): constants, and
// pure functions a backend calls inside its transaction with the rows it read. Nothing here does
// I/O; the SQL a backend writes must select what these functions describe (isLeasable,
// progressBucket), and the contract suite checks that it does.

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


/** A job's id: `campaign:device:idx`. Device ids and indexes hold no ':', so ids never collide. */
export function jobId(campaignId: string, deviceId: string, taskIdx: number): string {
  return `${campaignId}:${deviceId}:${taskIdx}`;
}

/** A lease is valid while now < expiresAt: one that expired by `now` goes back to the queue. */
export function leaseExpired(job: { status: JobStatus; leaseExpiresAt: number | null }, now: number): boolean {
  return job.status === 'leased' && job.leaseExpiresAt !== null && job.leaseExpiresAt <= now;
}

/**
 * A job leaseJobs may hand out at `now`: queued (after expired leases were returned), not given up
 * (fewer than MAX_JOB_FAILURES failures), and not held back after a disturbed result (notBefore).
 */
export function isLeasable(job: { status: JobStatus; failures: number; notBefore: number | null }, now: number): boolean {
  return job.status === 'queued' && job.failures < MAX_JOB_FAILURES && (job.notBefore === null || job.notBefore <= now);
}

/** A job the collector gave up on: queued as stored, with MAX_JOB_FAILURES failures. */
export function isGivenUp(job: { status: JobStatus; failures: number }): boolean {
  return job.status === 'queued' && job.failures >= MAX_JOB_FAILURES;
}

/**
 * Where campaignProgress counts a job at `now`: a lease that expired counts as queued, a job given
 * up as failed. queued + leased + done + failed = total.
 */
export function progressBucket(
  job: { status: JobStatus; failures: number; leaseExpiresAt: number | null },
  now: number,
): keyof Omit<CampaignProgress, 'deviceId' | 'total'> {
  if (job.status === 'done') return 'done';
  if (job.status === 'leased') return leaseExpired(job, now) ? 'queued' : 'leased';
  return isGivenUp(job) ? 'failed' : 'queued';
}

/** A measurement whose quality verdict is `disturbed` (conditions/quality.ts): stored marked. */
export function isDisturbed(m: Pick<Measurement, 'quality'>): boolean {
  return m.quality?.verdict === 'disturbed';
}

/**
 * Judges a result against its job, before anything is written (completeJob): throws
 * StoreNotFoundError, StoreJobStateError ('wrong_device', 'not_leased') or StoreValidationError (a
 * result of another task), or StoreConflictError via `conflict` when the result id is stored for
 * something else. 'duplicate' means write nothing: this result, or another of this job, is stored.
 *
 * @param job the job row (locked by the caller), undefined when unknown
 * @param storedJobOfResult undefined when no measurement has the result's id, else that
 *   measurement's jobId (null: a measurement of no job)
 * @param task the job's task (read when the job is known)
 * @param conflict builds the error for a result id stored for something else
 */
export function judgeResult(args: {
  result: NewResult;
  job: JobState | undefined;
  storedJobOfResult: string | null | undefined;
  task: TaskIdentity | undefined;
  conflict: (reason: string) => Error;
}): 'duplicate' | 'store' {
  const { result, job, storedJobOfResult, task } = args;
  if (job === undefined) throw new StoreNotFoundError('job', result.jobId, 'completeJob');
  if (job.deviceId !== result.deviceId) {
    throw new StoreJobStateError('wrong_device', result.jobId, `belongs to device '${job.deviceId}', not '${result.deviceId}'`);
  }
  if (storedJobOfResult !== undefined) {
    if (storedJobOfResult === result.jobId) return 'duplicate'; // the same result re-sent after a reconnect
    throw args.conflict(storedJobOfResult === null ? 'it is a measurement of no job' : `it completed job '${storedJobOfResult}'`);
  }
  // another result (another agent of this device, or a re-lease) got there first
  if (job.status === 'done') return 'duplicate';
  if (job.attempts === 0) throw new StoreJobStateError('not_leased', result.jobId, 'was never leased, so no agent was asked to measure it');
  if (task === undefined) throw new Error(`job '${result.jobId}' has no task: the database is inconsistent`);
  const m = result.measurement;
  for (const field of ['level', 'space', 'key'] as const) {
    if (task[field] !== m[field]) {
      throw new StoreValidationError(
        `measurement.${field}`,
        `job '${result.jobId}' measures ${field} ${JSON.stringify(task[field])}, not ${JSON.stringify(m[field])}`,
      );
    }
  }
  return 'store';
}

/**
 * The device's last PERSISTENT_WINDOW results are mostly disturbed.
 * @param recent disturbed flags of the device's last PERSISTENT_WINDOW stored measurements,
 *   newest first in insertion order, the result just stored included
 */
export function persistentlyDisturbed(recent: readonly boolean[]): boolean {
  return recent.length >= PERSISTENT_WINDOW && recent.filter(Boolean).length >= PERSISTENT_DISTURBED_SHARE * PERSISTENT_WINDOW;
}

/** What happens to a job once its result is stored (completeJob). */
export type AfterResult = { outcome: 'stored' } | { outcome: 'requeued'; notBefore: number };

/**
 * A disturbed result is kept (marked) and its job measured again later, MAX_DISTURBED_REQUEUES
 * times at most, held back DISTURBED_RETRY_MS · 2^(times so far), unless the device is disturbed
 * for good; any other result completes the job.
 * @param recent as persistentlyDisturbed's; only read for a disturbed result that may be requeued
 *   (a function, so a backend queries it only then)
 */
export function afterResult(args: {
  result: NewResult;
  job: JobState;
  recent: () => readonly boolean[];
}): AfterResult {
  const { result, job } = args;
  if (isDisturbed(result.measurement) && job.disturbed < MAX_DISTURBED_REQUEUES && !persistentlyDisturbed(args.recent())) {
    return { outcome: 'requeued', notBefore: result.now + DISTURBED_RETRY_MS * 2 ** job.disturbed };
  }
  return { outcome: 'stored' };
}

/**
 * Judges a failure report (failJob) against its job, before anything is written; returns what the
 * write will make of it. A lease that expired but was not yet returned to the queue is still the
 * agent's: nobody else is running the job.
 * @param job the job row (locked by the caller), undefined when unknown
 */
export function judgeFailure(input: FailJobInput, job: JobState | undefined): FailOutcome {
  if (job === undefined) throw new StoreNotFoundError('job', input.jobId, 'failJob');
  if (job.deviceId !== input.deviceId) {
    throw new StoreJobStateError('wrong_device', input.jobId, `belongs to device '${job.deviceId}', not '${input.deviceId}'`);
  }
  if (job.status !== 'leased' || job.leaseOwner !== input.agentId) {
    const state = job.status === 'done' ? 'is done' : job.status === 'queued' ? 'is not leased' : `is leased to another agent, not '${input.agentId}'`;
    throw new StoreJobStateError('not_leased', input.jobId, `${state}, so agent '${input.agentId}' cannot report it failed`);
  }
  const failures = job.failures + 1;
  return { failures, gaveUp: failures >= MAX_JOB_FAILURES };
}
