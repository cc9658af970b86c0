import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import {
  AgentMessageSchema, describeZodError, MAX_MESSAGE_BYTES, measurementOfResult, PROTOCOL_VERSION,
  type AgentMessage, type ErrorCode, type Hello, type JobFailedMessage, type JobTask, type ResultMessage, type ServerMessage,
} from '../../protocol/index.ts';
import { StoreConflictError, StoreJobStateError, StoreNotFoundError, StoreReferenceError, StoreUnavailableError, StoreValidationError } from '../store/index.ts';
import type { CompleteJobInput, Store } from '../store/index.ts';
import { tokenMatches } from './auth.ts';
import type { AuthLimiter } from './auth-limiter.ts';
import { StoreHealth } from './store-health.ts';

export interface AgentEndpointOptions {
  store: Store;
  token: string;
  leaseTtlMs: number;
  heartbeatMs: number;
  /** how long an agent with nothing to do waits before asking again */
  idleRetryMs: number;
  log?: (event: Record<string, unknown>) => void;
  /** shared with the HTTP side (`/api/health`); default: one of its own */
  storeHealth?: StoreHealth;
  /** a connection that has not said a valid hello by then is closed (default 10 s) */
  helloTimeoutMs?: number;
  /** counts wrong tokens per address (shared with HTTP) */
  authLimiter?: AuthLimiter;
}

/** What an agent is told to wait before re-sending a message the store could not take. */
export const STORE_RETRY_MS = 1000;

/** What an `error` reply is about, besides its code and message (see ErrorMessageSchema). */
interface ErrorAbout {
  field?: string;
  resultId?: string;
  jobId?: string;
  request?: AgentMessage['type'];
  retryAfterMs?: number;
}

interface Session {
  id: string;
  agentId: string;
  deviceId: string;
  /**
   * The jobs this connection leased and not yet answered, with their tasks and lease ids: a result
   * for one of them while its lease lasts needs no read of the job before it is completed (the
   * lease is this agent's, so no other may hold the job). Anything else is read first.
   */
  leased: Map<string, { task: JobTask; leaseId: string }>;
  /** each lease's expiry as last granted or extended on this connection (epoch ms) */
  leaseExpiry: Map<string, number>;
}

/** At most this many leased jobs are remembered per connection; the rest are read when answered. */
const MAX_REMEMBERED_JOBS = 4096;
/** At most this many consecutive result frames of one connection are completed in one call. */
export const MAX_RESULTS_PER_BATCH = 64;

/** A frame as received, parsed once when first looked at. */
interface Frame {
  bytes: Buffer;
  isBinary: boolean;
  parsed?: ParsedFrame;
}

/** A valid message, or the refusal of a frame that is not one. */
type ParsedFrame = { msg: AgentMessage } | { code: ErrorCode; message: string; about: ErrorAbout };

/**
 * The ws endpoint agents talk to. Every inbound frame is size-checked, parsed and validated; a bad
 * one gets an `error` naming the field and the connection stays up (except a failed hello, which
 * closes it). Results are acknowledged only after their transaction committed.
 */
export class AgentEndpoint {
  /** live connections per agent id: leases are released only when an agent's last one closes */
  private readonly live = new Map<string, Set<WebSocket>>();
  readonly stats = { results: 0, duplicates: 0, errors: 0, jobFailures: 0, requeued: 0 };
  /** whether the store takes writes (see StoreHealth) */
  readonly storeHealth: StoreHealth;

  constructor(private readonly o: AgentEndpointOptions) {
    this.storeHealth = o.storeHealth ?? new StoreHealth();
  }

  /** Agents connected now (by agent id) with their device ids. */
  connectedAgents(): number {
    return this.live.size;
  }

  /** Serves one agent connection; `address` is its remote address (failed hellos count against it). */
  handle(ws: WebSocket, address = 'unknown'): void {
    let session: Session | null = null;
    // a connection that never registers holds a file descriptor for nothing: it gets a deadline
    const helloMs = this.o.helloTimeoutMs ?? 10_000;
    const helloTimer = setTimeout(() => {
      if (session) return;
      this.fail(ws, session, 'not_registered', `no valid 'hello' within ${helloMs} ms: closing`);
      ws.close(4008, 'hello timeout');
      // a peer that does not read does not answer the close either
      setTimeout(() => ws.terminate(), 1000).unref();
    }, helloMs);
    helloTimer.unref();
    // One frame at a time, in order: the store is asynchronous, and a frame must see the session
    // its predecessor (a hello) left, as an agent expects of one connection. Result frames that
    // arrived while an earlier frame was being handled (an agent answering a lease at once) are
    // completed together, in one store call (one transaction, one commit).
    let queue: Promise<void> = Promise.resolve();
    const pending: Frame[] = [];
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      pending.push({ bytes, isBinary });
      queue = queue.then(async () => {
        if (pending.length === 0) return; // taken by an earlier batch
        try {
          const results = session ? this.takeResults(pending) : [];
          if (results.length > 0) await this.results(ws, session!, results);
          else session = await this.onFrame(ws, session, pending.shift()!, address);
        } catch (e) {
          // a last resort (onFrame answers its own failures): nothing may take the server down
          this.o.log?.({ event: 'internal_error', message: (e as Error).message });
          this.send(ws, { type: 'error', code: 'internal', message: `collector error: ${(e as Error).message}` });
        }
      });
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      // after the frames still being handled, so a hello in flight is undone too
      queue = queue.then(async () => {
        if (session) await this.detach(ws, session);
        session = null;
      });
    });
    ws.on('error', () => {});
  }

  /** The frame's message, or why it is refused (parsed once). */
  private parse(frame: Frame): ParsedFrame {
    if (frame.parsed) return frame.parsed;
    const { bytes, isBinary } = frame;
    const refuse = (code: ErrorCode, message: string, about: ErrorAbout = {}): ParsedFrame => (frame.parsed = { code, message, about });
    if (bytes.length > MAX_MESSAGE_BYTES) return refuse('too_large', `message of ${bytes.length} bytes exceeds the limit of ${MAX_MESSAGE_BYTES}`);
    if (isBinary) return refuse('bad_message', 'binary frames are not part of the protocol; send JSON text');
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      return refuse('bad_json', `message is not valid JSON: ${(e as Error).message}`);
    }
    const parsed = AgentMessageSchema.safeParse(json);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      const resultId = typeof (json as { resultId?: unknown })?.resultId === 'string' ? (json as { resultId: string }).resultId : undefined;
      // a refused job_failed names its job, so the agent does not take the error for a request's reply
      const failed = json as { type?: unknown; jobId?: unknown } | null;
      const jobId = failed?.type === 'job_failed' && typeof failed.jobId === 'string' ? failed.jobId : undefined;
      return refuse('bad_message', message, { field, resultId, jobId });
    }
    return (frame.parsed = { msg: parsed.data });
  }

  /**
   * Takes the valid result messages at the head of `pending` (at most MAX_RESULTS_PER_BATCH), or
   * none when the head is another message or a bad frame (handled alone, in order).
   */
  private takeResults(pending: Frame[]): ResultMessage[] {
    const out: ResultMessage[] = [];
    while (out.length < MAX_RESULTS_PER_BATCH && pending.length > 0) {
      const p = this.parse(pending[0]!);
      if (!('msg' in p) || p.msg.type !== 'result') break;
      out.push(p.msg);
      pending.shift();
    }
    return out;
  }

  private async onFrame(ws: WebSocket, session: Session | null, frame: Frame, address: string): Promise<Session | null> {
    const parsed = this.parse(frame);
    if (!('msg' in parsed)) return this.fail(ws, session, parsed.code, parsed.message, parsed.about);
    const msg: AgentMessage = parsed.msg;
    try {
      return await this.dispatch(ws, session, msg, address);
    } catch (e) {
      // the reply names what it answers, so the agent never takes it for another request's reply
      const about: ErrorAbout = {
        request: msg.type,
        ...(msg.type === 'result' ? { resultId: msg.resultId } : {}),
        ...(msg.type === 'job_failed' ? { jobId: msg.jobId } : {}),
      };
      if (e instanceof StoreUnavailableError) {
        this.storeHealth.failed(e);
        this.o.log?.({ event: 'store_unavailable', request: msg.type, code: e.code, message: e.message });
        this.fail(ws, session, 'store_unavailable', e.message, { ...about, retryAfterMs: STORE_RETRY_MS });
        // a hello that could not be recorded: the agent reconnects (with its backoff) and says it again
        if (msg.type === 'hello' && !session) ws.close(1013, 'store unavailable');
        return session;
      }
      this.o.log?.({ event: 'internal_error', request: msg.type, message: (e as Error).message });
      return this.fail(ws, session, 'internal', `collector error: ${(e as Error).message}`, about);
    }
  }

  private async dispatch(ws: WebSocket, session: Session | null, msg: AgentMessage, address: string): Promise<Session | null> {
    const { store } = this.o;
    if (msg.type === 'hello') return this.hello(ws, session, msg, address);
    if (!session) return this.fail(ws, session, 'not_registered', `'${msg.type}' before 'hello': say hello with the token first`);
    switch (msg.type) {
      case 'lease_request': {
        const lease = await store.leaseJobs({ deviceId: session.deviceId, agentId: session.agentId, max: msg.max, ttlMs: this.o.leaseTtlMs, now: Date.now() });
        this.storeHealth.ok();
        forgetExpired(session, Date.now());
        if (lease.leaseId !== null && lease.expiresAt !== null && session.leased.size + lease.jobs.length <= MAX_REMEMBERED_JOBS) {
          for (const job of lease.jobs) session.leased.set(job.id, { task: job.task, leaseId: lease.leaseId });
          session.leaseExpiry.set(lease.leaseId, lease.expiresAt);
        }
        this.send(ws, lease.jobs.length > 0 ? { type: 'lease', ...lease } : { type: 'lease', leaseId: null, jobs: [], expiresAt: null, retryAfterMs: this.o.idleRetryMs });
        break;
      }
      case 'heartbeat': {
        const expiresAt = Date.now() + this.o.leaseTtlMs;
        const n = await store.extendLeases({ agentId: session.agentId, leaseIds: msg.leaseIds.length > 0 ? msg.leaseIds : undefined, expiresAt, now: Date.now() });
        this.storeHealth.ok();
        if (n > 0) extendRemembered(session, msg.leaseIds, expiresAt);
        this.send(ws, { type: 'heartbeat', expiresAt: n > 0 ? expiresAt : null });
        break;
      }
      case 'result': // only when not batched (handle takes results before dispatch)
        await this.results(ws, session, [msg]);
        break;
      case 'release':
        forgetLeases(session, msg.leaseIds); // before: a release that fails may still have happened
        await store.releaseLeases({ agentId: session.agentId, leaseIds: msg.leaseIds });
        this.storeHealth.ok();
        break;
      case 'job_failed':
        await this.jobFailed(ws, session, msg);
        break;
    }
    return session;
  }

  /**
   * Takes a connection off its agent's set; the agent's last connection gone, its jobs go back to
   * the queue at once instead of waiting for their leases to expire. Idempotent.
   */
  private async detach(ws: WebSocket, session: Session): Promise<void> {
    const set = this.live.get(session.agentId);
    if (!set?.delete(ws)) return;
    if (set.size === 0) {
      this.live.delete(session.agentId);
      try {
        await this.o.store.releaseLeases({ agentId: session.agentId });
      } catch (e) {
        // runs in a close handler, where a throw would take the process down; the leases expire instead
        if (e instanceof StoreUnavailableError) this.storeHealth.failed(e);
        this.o.log?.({ event: 'release_failed', agentId: session.agentId, message: (e as Error).message });
      }
    }
  }

  private async hello(ws: WebSocket, session: Session | null, msg: Hello, address: string): Promise<Session | null> {
    // a refused hello closes the connection: a session it carried ends here and now, since the
    // close handler only sees the (null) session this returns
    const refuse = async (code: ErrorCode, message: string, closeCode: number): Promise<null> => {
      if (session) await this.detach(ws, session);
      this.fail(ws, session, code, message);
      ws.close(closeCode, code);
      return null;
    };
    if (!tokenMatches(this.o.token, msg.token)) {
      this.o.authLimiter?.failed(address);
      this.o.log?.({ event: 'auth_failed', address, agentId: msg.agentId });
      return refuse('unauthorized', 'wrong token', 4001);
    }
    if (msg.version !== PROTOCOL_VERSION) {
      return refuse('version', `protocol version ${msg.version} is not supported; this collector speaks ${PROTOCOL_VERSION}`, 4002);
    }
    if (session) {
      return this.fail(ws, session, 'bad_message', `this connection already said hello (agent '${session.agentId}'); open a new connection to register again`, { field: 'type' });
    }
    const { store } = this.o;
    // the pass is checked before anything is written: a hello naming another device's pass (or the
    // same pass with other settings) must leave no device row behind
    const known = await store.getPass(msg.pass.id);
    if (known) {
      const diffs: string[] = [];
      if (known.deviceId !== msg.device.id) diffs.push(`it belongs to another device`);
      if (known.startedAt !== msg.pass.startedAt) diffs.push(`it started at '${known.startedAt}'`);
      if (known.calibrationKey !== msg.pass.calibrationKey) diffs.push(`its calibration key is '${known.calibrationKey}'`);
      if (diffs.length > 0) return this.fail(ws, session, 'bad_message', `pass '${msg.pass.id}' already exists and ${diffs.join(', ')}: a new pass needs a new id`, { field: 'pass.id' });
    }
    try {
      await store.upsertDevice(msg.device);
      await store.startPass({ id: msg.pass.id, deviceId: msg.device.id, startedAt: msg.pass.startedAt, finishedAt: null, calibrationKey: msg.pass.calibrationKey, calibrationMs: null, calibrationTrace: [] });
    } catch (e) {
      // a backstop for what the check above cannot see (another process writing the same database)
      if (e instanceof StoreConflictError) return this.fail(ws, session, 'bad_message', e.message, { field: 'pass.id' });
      if (e instanceof StoreValidationError) return this.fail(ws, session, 'bad_message', e.message, { field: e.argument.replace(/^profile/, 'device') });
      throw e;
    }
    const created = await store.ensureJobsForDevice(msg.device.id);
    this.storeHealth.ok();
    const next: Session = { id: randomUUID(), agentId: msg.agentId, deviceId: msg.device.id, leased: new Map(), leaseExpiry: new Map() };
    if (!this.live.has(next.agentId)) this.live.set(next.agentId, new Set());
    this.live.get(next.agentId)?.add(ws);
    this.o.log?.({ event: 'hello', agentId: msg.agentId, deviceId: msg.device.id, name: msg.device.name, jobsCreated: created });
    this.send(ws, { type: 'welcome', version: PROTOCOL_VERSION, session: next.id, deviceId: next.deviceId, heartbeatMs: this.o.heartbeatMs });
    return next;
  }

  /**
   * Result messages of one connection, completed in one store call (completeJobs) and acknowledged
   * in one `ack` after it committed; each refused result gets its own `error`. A store that cannot
   * be written answers every result not yet answered with `store_unavailable` (re-send later).
   */
  private async results(ws: WebSocket, session: Session, msgs: readonly ResultMessage[]): Promise<void> {
    const answered = new Set<ResultMessage>();
    const refuse = (msg: ResultMessage, code: ErrorCode, message: string, about: ErrorAbout = {}): void => {
      answered.add(msg);
      this.fail(ws, session, code, message, { resultId: msg.resultId, ...about });
    };
    try {
      const batch: Array<{ msg: ResultMessage; input: CompleteJobInput; own: boolean; holder: string | null }> = [];
      for (const msg of msgs) {
        const r = await this.resultInput(session, msg, (code, message, about) => refuse(msg, code, message, about));
        if (r) batch.push({ msg, ...r });
      }
      if (batch.length === 0) return;
      const items = await this.o.store.completeJobs(batch.map((b) => b.input));
      this.storeHealth.ok();
      const acked: string[] = [];
      items.forEach((item, i) => {
        const { msg, own, holder } = batch[i]!;
        session.leased.delete(msg.jobId); // answered: stored, requeued (lease cleared) or refused for good
        if ('error' in item) {
          const e = item.error;
          if (e instanceof StoreJobStateError) refuse(msg, e.code, e.message, { field: 'jobId' });
          else if (e instanceof StoreNotFoundError) refuse(msg, 'unknown_job', e.message, { field: 'jobId' });
          else if (e instanceof StoreValidationError || e instanceof StoreReferenceError || e instanceof StoreConflictError) refuse(msg, 'bad_message', e.message);
          else {
            this.o.log?.({ event: 'internal_error', request: 'result', message: e.message });
            refuse(msg, 'internal', `collector error: ${e.message}`, { request: 'result' });
          }
          return;
        }
        answered.add(msg);
        acked.push(msg.resultId);
        if (item.outcome === 'duplicate') this.stats.duplicates++;
        else this.stats.results++;
        if (!own && item.outcome !== 'duplicate') {
          this.o.log?.({
            event: 'result_from_other_agent', jobId: msg.jobId, deviceId: session.deviceId, agentId: session.agentId, leaseOwner: holder,
            reason: holder !== null ? 'the agent holding the lease is gone' : 'the job is not leased now (its lease was released or expired)',
          });
        }
        if (item.outcome === 'requeued') {
          // stored marked; the job waits and is measured again when the device may be quieter
          this.stats.requeued++;
          this.o.log?.({ event: 'result_disturbed', jobId: msg.jobId, deviceId: session.deviceId, evidence: msg.quality?.evidence ?? [] });
        }
      });
      if (acked.length > 0) this.send(ws, { type: 'ack', resultIds: acked });
    } catch (e) {
      const unavailable = e instanceof StoreUnavailableError;
      if (unavailable) {
        this.storeHealth.failed(e);
        this.o.log?.({ event: 'store_unavailable', request: 'result', code: e.code, message: e.message });
      } else this.o.log?.({ event: 'internal_error', request: 'result', message: (e as Error).message });
      for (const msg of msgs) {
        if (answered.has(msg)) continue;
        if (unavailable) refuse(msg, 'store_unavailable', e.message, { request: 'result', retryAfterMs: STORE_RETRY_MS });
        else refuse(msg, 'internal', `collector error: ${(e as Error).message}`, { request: 'result' });
      }
    }
  }

  /**
   * The completeJob input of a result, or undefined when it is refused (`refuse` called). A job
   * this connection leased, while its lease lasts, is taken from the session; any other is read.
   */
  private async resultInput(
    session: Session,
    msg: ResultMessage,
    refuse: (code: ErrorCode, message: string, about?: ErrorAbout) => void,
  ): Promise<{ input: CompleteJobInput; own: boolean; holder: string | null } | undefined> {
    const mine = session.leased.get(msg.jobId);
    let task: JobTask;
    let own = true;
    let holder: string | null = session.agentId;
    if (mine !== undefined && (session.leaseExpiry.get(mine.leaseId) ?? 0) > Date.now()) task = mine.task;
    else {
      const job = await this.o.store.getJob(msg.jobId);
      if (!job) {
        refuse('unknown_job', `unknown job '${msg.jobId}'`, { field: 'jobId' });
        return undefined;
      }
      // Who may complete a leased job: the agent holding the lease, or another agent of the same
      // device once that agent is gone (a restarted agent re-sending its outbox: its earlier process
      // held the lease). While the lease's agent is connected and its lease lasts, the job is its own.
      holder = job.status === 'leased' ? job.leaseOwner : null;
      own = holder === session.agentId;
      if (!own && holder !== null && job.deviceId === session.deviceId && (job.leaseExpiresAt ?? 0) > Date.now() && this.live.has(holder)) {
        refuse('leased_elsewhere', `job '${job.id}' is leased to agent '${holder}', which is still connected: only it completes the job while its lease lasts; send this result again later`, { field: 'jobId' });
        return undefined;
      }
      task = job.task;
    }
    // what was measured is the job's task, on the connection's device: the message carries only figures
    const measurement = measurementOfResult(msg, { task, deviceId: session.deviceId });
    // a network's kernels timed in context are stored with its measurement (an op job has none to send)
    const kernels = task.level === 'network' && msg.kernels ? { kernels: msg.kernels } : {};
    return { input: { jobId: msg.jobId, deviceId: session.deviceId, measurement, ...kernels }, own, holder };
  }

  /**
   * An agent cannot build or run a job: it goes back to the queue with one more failure (given up
   * at MAX_JOB_FAILURES). No reply when recorded, like `release`; a refusal is an `error` carrying
   * the jobId, so the agent does not take it for the answer to a request it is waiting on.
   */
  private async jobFailed(ws: WebSocket, session: Session, msg: JobFailedMessage): Promise<void> {
    session.leased.delete(msg.jobId); // its lease is cleared (or it was not this agent's)
    try {
      const { failures, gaveUp } = await this.o.store.failJob({ jobId: msg.jobId, deviceId: session.deviceId, agentId: session.agentId, error: msg.error });
      this.storeHealth.ok();
      this.stats.jobFailures++;
      this.o.log?.({ event: 'job_failed', jobId: msg.jobId, agentId: session.agentId, deviceId: session.deviceId, failures, gaveUp, error: msg.error });
    } catch (e) {
      if (e instanceof StoreJobStateError) this.fail(ws, session, e.code, e.message, { field: 'jobId', jobId: msg.jobId });
      else if (e instanceof StoreNotFoundError) this.fail(ws, session, 'unknown_job', e.message, { field: 'jobId', jobId: msg.jobId });
      else if (e instanceof StoreValidationError) this.fail(ws, session, 'bad_message', e.message, { jobId: msg.jobId });
      else throw e;
    }
  }

  private fail(ws: WebSocket, session: Session | null, code: ErrorCode, message: string, about: ErrorAbout = {}): Session | null {
    this.stats.errors++;
    const reply: ServerMessage = { type: 'error', code, message };
    if (about.field) reply.field = about.field;
    if (about.resultId) reply.resultId = about.resultId;
    if (about.jobId) reply.jobId = about.jobId;
    if (about.request) reply.request = about.request;
    if (about.retryAfterMs !== undefined) reply.retryAfterMs = about.retryAfterMs;
    this.send(ws, reply);
    return session;
  }

  private send(ws: WebSocket, msg: ServerMessage): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  }
}

/**
 * A heartbeat extended the agent's unexpired leases (the given ones, or all when none are named):
 * so do the remembered expiries. One that already passed stays passed, as in the store.
 */
function extendRemembered(session: Session, leaseIds: readonly string[], expiresAt: number): void {
  const now = Date.now();
  for (const id of leaseIds.length > 0 ? leaseIds : [...session.leaseExpiry.keys()]) {
    const at = session.leaseExpiry.get(id);
    if (at !== undefined && at > now) session.leaseExpiry.set(id, Math.max(at, expiresAt));
  }
}

/** The leases are released: their jobs are read again if this connection answers them. */
function forgetLeases(session: Session, leaseIds: readonly string[]): void {
  const gone = new Set(leaseIds);
  for (const id of gone) session.leaseExpiry.delete(id);
  for (const [jobId, { leaseId }] of session.leased) if (gone.has(leaseId)) session.leased.delete(jobId);
}

/** Leases that expired are the store's to hand out again: their jobs are read when answered. */
function forgetExpired(session: Session, now: number): void {
  const gone = [...session.leaseExpiry].filter(([, at]) => at <= now).map(([id]) => id);
  if (gone.length > 0) forgetLeases(session, gone);
}
