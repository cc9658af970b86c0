import {
  DeviceProfileSchema, JobSchema, MAX_JOB_ERROR_CHARS, PROTOCOL_VERSION, resultOfMeasurement,
  type DeviceProfile, type Hello, type Job, type Lease, type Measurement,
} from '../../protocol/index.ts';
import type { RuntimeBackend } from '../backends/types.ts';
import { randomId } from '../ids.ts';
import { attachKernels, type KernelProfiler } from '../kernel-profile.ts';
import { CALIBRATION_KEY, ContentionDetector } from '../../conditions/index.ts';
import type { ConditionProbe } from '../probe.ts';
import { profileItems, type ProfileItem } from '../profiler.ts';
import type { ResultOutbox } from '../transport/outbox-types.ts';
import {
  CollectorConnection, CollectorError, ConnectionClosedError, RequestTimeoutError, backoffDelay, collectorUrls,
  type AgentEvent, type AgentLog, type BackoffOptions,
} from '../transport/ws-client.ts';
import { groupBySettings, jobItem } from './jobs.ts';

/**
 * What the agent loop needs, in Node or a browser: the outbox is given (the Node agent's is a folder
 * on disk, see runAgent; the browser page's lives in IndexedDB).
 */
export interface AgentLoopOptions {
  /**
   * the collector's agent endpoint, ws:// or wss://, or several (replicas on one database): the
   * agent uses one and fails over to the next with its outbox (see CollectorConnection)
   */
  collector: string | readonly string[];
  token: string;
  backend: RuntimeBackend;
  /** this device's profile (agent/fingerprint) */
  device: DeviceProfile;
  /** overrides the device's display name (not its id) */
  name?: string;
  /** jobs per lease request (default 4, at most 256) */
  maxJobs?: number;
  /** heartbeat period while measuring; default: the collector's (from `welcome`) */
  heartbeatMs?: number;
  log?: (event: AgentEvent) => void;
  /** abort to stop: the measurement group in hand finishes, its results are sent, the rest is released */
  signal?: AbortSignal;
  /** reconnect backoff (full jitter; base 200 ms, cap 5 s), after each round of the collectors */
  backoff?: BackoffOptions;
  /** how long a stop waits for outstanding acks (default 5000 ms) */
  drainTimeoutMs?: number;
  /** how long to wait for a `lease` reply before asking again (default 30 s) */
  requestTimeoutMs?: number;
  /** unacknowledged results, kept across reconnects and restarts */
  outbox: ResultOutbox;
  /** the OS's figures for contention detection (the Node agent: nodeProbe()); default none */
  probe?: ConditionProbe;
  /**
   * profiles the kernels of jobs that ask for them (network tasks with `kernels`); without one
   * (a browser page) such jobs are measured and sent without kernels
   */
  kernelProfiler?: KernelProfiler;
}

export interface AgentSummary {
  agentId: string;
  passId: string;
  deviceId: string;
  leases: number;
  /** results measured and submitted by this process */
  results: number;
  /** result ids acknowledged during this run (re-sent ones from earlier runs included) */
  acked: number;
  /** jobs that could not be built or run */
  failedJobs: number;
  /** results still in the outbox when the agent stopped (sent again by the next run) */
  pending: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function checkOptions(o: AgentLoopOptions): void {
  collectorUrls(o.collector, 'collector');
  if (typeof o.token !== 'string' || o.token.length === 0) throw new TypeError(`'token' must be a non-empty string`);
  if (o.outbox === null || typeof o.outbox !== 'object' || typeof o.outbox.put !== 'function') {
    throw new TypeError(`'outbox' must be a ResultOutbox (put, remove, list)`);
  }
  if (o.maxJobs !== undefined && (!Number.isInteger(o.maxJobs) || o.maxJobs < 1 || o.maxJobs > 256)) {
    throw new RangeError(`'maxJobs' must be an integer from 1 to 256, got ${o.maxJobs}`);
  }
  if (o.heartbeatMs !== undefined && (!Number.isFinite(o.heartbeatMs) || o.heartbeatMs <= 0)) {
    throw new RangeError(`'heartbeatMs' must be a number > 0, got ${o.heartbeatMs}`);
  }
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.trim().length === 0)) {
    throw new TypeError(`'name' must be a non-empty string, got ${JSON.stringify(o.name)}`);
  }
}

/**
 * The device agent: connects to the collector, leases jobs, measures each lease as one
 * interleaved group (with the calibration workload, per the jobs' settings), and sends one result
 * per job through the durable outbox. Runs until `signal` aborts (resolves with a summary after a
 * clean stop) or the collector refuses the agent (rejects with CollectorRefusedError).
 *
 * A job that cannot be built or run is logged (`job_failed`), skipped, and reported to the
 * collector (a `job_failed` message with the error), which puts it back in the queue with one more
 * failure and gives it up after a few. Keeping it leased instead would only bring it back when the
 * lease expired, forever, and its campaign would never finish.
 *
 * Runtime-agnostic (no Node imports): the Node agent (runAgent, with its on-disk outbox) and the
 * browser page (agent/browser, with an IndexedDB outbox) both run this loop.
 *
 * @example
 * const backend = await createOrtWebBackend({ provider: 'wasm' });
 * const device = await browserFingerprint(backend.info);
 * await runAgentLoop({ collector: 'ws://127.0.0.1:8700/ws', token, backend, device, outbox: new IdbOutbox(device.id) });
 */
export async function runAgentLoop(options: AgentLoopOptions): Promise<AgentSummary> {
  checkOptions(options);
  const log: AgentLog = options.log ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const device = DeviceProfileSchema.parse(options.name ? { ...options.device, name: options.name.trim() } : options.device);
  const maxJobs = options.maxJobs ?? 4;
  const drainTimeoutMs = options.drainTimeoutMs ?? 5000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const outbox = options.outbox;
  const agentId = randomId();
  const pass = { id: `pass-${randomId()}`, startedAt: new Date().toISOString(), calibrationKey: CALIBRATION_KEY };
  const hello: Hello = { type: 'hello', version: PROTOCOL_VERSION, token: options.token, agentId, device, pass };
  const conn = new CollectorConnection({ url: options.collector, hello, outbox, backoff: options.backoff, log });
  const summary: AgentSummary = { agentId, passId: pass.id, deviceId: device.id, leases: 0, results: 0, acked: 0, failedJobs: 0, pending: 0 };
  // one detector for the whole run: its baselines are the device's, carried from lease to lease
  const detector = new ContentionDetector();
  /** leases in hand that are not finished: released on stop */
  const open = new Set<string>();
  let ackWaiters: Array<() => void> = [];

  conn.onMessage((msg, { claimed }) => {
    if (msg.type === 'ack') {
      summary.acked += msg.resultIds.length;
      for (const w of ackWaiters.splice(0)) w();
    } else if (msg.type === 'lease' && !claimed && msg.leaseId !== null && msg.jobs.length > 0) {
      // a reply that came after we stopped waiting (stop, timeout): give it back at once
      if (conn.send({ type: 'release', leaseIds: [msg.leaseId] })) log({ event: 'released', leaseIds: [msg.leaseId], reason: 'unclaimed lease' });
    } else if (msg.type === 'heartbeat') {
      log({ event: 'heartbeat', expiresAt: msg.expiresAt });
    }
  });

  const collectors = collectorUrls(options.collector, 'collector');
  log({ event: 'start', agentId, passId: pass.id, deviceId: device.id, name: device.name, collector: collectors[0], collectors, maxJobs });
  conn.start();

  /**
   * A job that cannot be built or run here: logged and reported to the collector, which requeues it
   * with one more failure (another agent of this device may fare better; a bad spec fails each time
   * until the collector gives it up). Not connected: the collector releases this agent's leases when
   * the connection drops, so the job is back in the queue anyway, just without the failure counted.
   */
  function jobFailed(job: Job, stage: 'build' | 'run', e: unknown): void {
    summary.failedJobs++;
    const message = e instanceof Error ? e.message : String(e);
    // the protocol caps the text; the start of a message says what went wrong
    const error = `${stage} failed: ${message || '(no message)'}`.slice(0, MAX_JOB_ERROR_CHARS);
    const sent = conn.send({ type: 'job_failed', jobId: job.id, error });
    log({ event: 'job_failed', jobId: job.id, key: job.task.key, stage, message, sent });
  }

  /** Measures one group of jobs with the same settings; a group that fails is retried job by job to find the bad one. */
  async function measure(jobs: readonly Job[], items: readonly ProfileItem[]): Promise<void> {
    const settings = (jobs[0] as Job).settings;
    const submitted = new Set<string>();
    try {
      await profileItems(items, {
        backend: options.backend,
        deviceId: device.id,
        passId: pass.id,
        batch: settings.batch,
        warmup: settings.warmup,
        minRepeats: settings.minRepeats,
        minTimeMs: settings.minTimeMs,
        groupSize: items.length,
        detector,
        ...(options.probe ? { probe: options.probe } : {}),
        onMeasurements: async (ms) => {
          for (let i = 0; i < ms.length; i++) {
            const job = jobs[i] as Job;
            // a kernel-profiling job: the network again, with the runtime's profiler on
            const { result, outcome } = await attachKernels(resultOfMeasurement(ms[i] as Measurement, { jobId: job.id, passId: pass.id }), job, () => (items[i] as ProfileItem).model(settings.batch), options.kernelProfiler);
            if (outcome) log({ event: 'kernels', jobId: job.id, key: job.task.key, ...outcome });
            submitted.add(job.id);
            summary.results++;
            let sent = false;
            try {
              sent = await conn.submit(result);
            } catch (e) {
              // the outbox could not keep it (disk full?): send it anyway rather than lose it
              log({ event: 'outbox_error', op: 'put', resultId: result.resultId, message: (e as Error).message });
              try {
                sent = conn.send(result);
              } catch (e2) {
                log({ event: 'result_failed', resultId: result.resultId, jobId: job.id, message: (e2 as Error).message });
              }
            }
            log({ event: 'result', resultId: result.resultId, jobId: job.id, key: job.task.key, median: result.stats.median, quality: result.quality?.verdict ?? 'clean', sent });
          }
        },
      });
    } catch (e) {
      if (jobs.length === 1) {
        jobFailed(jobs[0] as Job, 'run', e);
        return;
      }
      log({ event: 'group_failed', jobs: jobs.length, message: (e as Error).message, retry: 'one by one' });
      for (let i = 0; i < jobs.length; i++) {
        if (!submitted.has((jobs[i] as Job).id)) await measure([jobs[i] as Job], [items[i] as ProfileItem]);
      }
    }
  }

  async function runLease(lease: Lease & { leaseId: string }): Promise<void> {
    open.add(lease.leaseId);
    summary.leases++;
    log({ event: 'lease', leaseId: lease.leaseId, jobs: lease.jobs.length, expiresAt: lease.expiresAt });
    const hbMs = options.heartbeatMs ?? conn.welcome?.heartbeatMs ?? 10_000;
    const heartbeat = setInterval(() => {
      if (open.size > 0) conn.send({ type: 'heartbeat', leaseIds: [...open] });
    }, hbMs);
    try {
      const ready: Array<{ job: Job; item: ProfileItem }> = [];
      for (const raw of lease.jobs) {
        const job = JobSchema.parse(raw);
        try {
          ready.push({ job, item: jobItem(job) });
        } catch (e) {
          jobFailed(job, 'build', e);
        }
      }
      const groups = groupBySettings(ready.map((r) => ({ ...r, settings: r.job.settings })));
      for (const g of groups) {
        // after a stop, the group in hand finishes; groups not started are released with the lease
        if (signal.aborted) return;
        log({ event: 'measuring', leaseId: lease.leaseId, jobs: g.jobs.length, settings: g.settings });
        await measure(g.jobs.map((r) => r.job), g.jobs.map((r) => r.item));
      }
      open.delete(lease.leaseId);
    } finally {
      clearInterval(heartbeat);
    }
  }

  async function drain(): Promise<number> {
    const deadline = Date.now() + drainTimeoutMs;
    for (;;) {
      let pending: number;
      try {
        pending = (await outbox.list()).length;
      } catch {
        return -1;
      }
      const left = deadline - Date.now();
      if (pending === 0 || left <= 0 || conn.fatalError) return pending;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        ackWaiters.push(() => {
          clearTimeout(t);
          // the outbox is trimmed before listeners hear the ack
          resolve();
        });
      });
    }
  }

  let failure: unknown = null;
  try {
    let idleAttempt = 0;
    let idle = false;
    while (!signal.aborted) {
      let lease: Lease;
      try {
        await conn.ready(signal);
        lease = await conn.request({ type: 'lease_request', max: maxJobs }, 'lease', { signal, timeoutMs: requestTimeoutMs });
      } catch (e) {
        if (signal.aborted) break;
        if (conn.fatalError) throw conn.fatalError;
        if (e instanceof RequestTimeoutError || e instanceof CollectorError) {
          log({ event: 'lease_failed', message: e.message });
          await sleep(backoffDelay(idleAttempt++, options.backoff) + 100, signal);
          continue;
        }
        throw e;
      }
      idleAttempt = 0;
      if (lease.leaseId === null || lease.jobs.length === 0) {
        // once per idle stretch, not on every poll
        if (!idle) log({ event: 'idle', retryAfterMs: lease.retryAfterMs ?? 1000 });
        idle = true;
        await sleep(lease.retryAfterMs ?? 1000, signal);
        continue;
      }
      idle = false;
      await runLease(lease as Lease & { leaseId: string });
    }
  } catch (e) {
    failure = e;
  }

  // stop: give back what is not finished, wait a little for acks, close
  if (!conn.fatalError) {
    log({ event: 'stopping', openLeases: open.size });
    if (open.size > 0) {
      const leaseIds = [...open];
      if (conn.send({ type: 'release', leaseIds })) log({ event: 'released', leaseIds, reason: 'stopping' });
    }
    summary.pending = await drain();
  } else {
    summary.pending = await outbox.list().then((l) => l.length, () => -1);
  }
  ackWaiters = [];
  await conn.close().catch(() => {});
  if (failure !== null && !(failure instanceof ConnectionClosedError && signal.aborted)) {
    log({ event: 'stopped', ...summary, error: (failure as Error).message });
    throw failure;
  }
  log({ event: 'stopped', ...summary });
  return summary;
}
