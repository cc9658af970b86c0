import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import {
  AgentMessageSchema, describeZodError, MAX_MESSAGE_BYTES, PROTOCOL_VERSION,
  type AgentMessage, type ErrorCode, type Hello, type JobFailedMessage, type Measurement, type ResultMessage, type ServerMessage,
} from '../../protocol/index.ts';
import { StoreConflictError, StoreJobStateError, StoreNotFoundError, StoreReferenceError, StoreUnavailableError, StoreValidationError } from '../store/index.ts';
import type { Store } from '../store/index.ts';
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
}

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
    // its predecessor (a hello) left, as an agent expects of one connection.
    let queue: Promise<void> = Promise.resolve();
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      queue = queue.then(async () => {
        try {
          session = await this.onFrame(ws, session, bytes, isBinary, address);
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

  private async onFrame(ws: WebSocket, session: Session | null, bytes: Buffer, isBinary: boolean, address: string): Promise<Session | null> {
    if (bytes.length > MAX_MESSAGE_BYTES) {
      return this.fail(ws, session, 'too_large', `message of ${bytes.length} bytes exceeds the limit of ${MAX_MESSAGE_BYTES}`);
    }
    if (isBinary) return this.fail(ws, session, 'bad_message', 'binary frames are not part of the protocol; send JSON text');
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      return this.fail(ws, session, 'bad_json', `message is not valid JSON: ${(e as Error).message}`);
    }
    const parsed = AgentMessageSchema.safeParse(json);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      const resultId = typeof (json as { resultId?: unknown })?.resultId === 'string' ? (json as { resultId: string }).resultId : undefined;
      // a refused job_failed names its job, so the agent does not take the error for a request's reply
      const failed = json as { type?: unknown; jobId?: unknown } | null;
      const jobId = failed?.type === 'job_failed' && typeof failed.jobId === 'string' ? failed.jobId : undefined;
      return this.fail(ws, session, 'bad_message', message, { field, resultId, jobId });
    }
    const msg: AgentMessage = parsed.data;
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
        this.send(ws, lease.jobs.length > 0 ? { type: 'lease', ...lease } : { type: 'lease', leaseId: null, jobs: [], expiresAt: null, retryAfterMs: this.o.idleRetryMs });
        break;
      }
      case 'heartbeat': {
        const expiresAt = Date.now() + this.o.leaseTtlMs;
        const n = await store.extendLeases({ agentId: session.agentId, leaseIds: msg.leaseIds.length > 0 ? msg.leaseIds : undefined, expiresAt, now: Date.now() });
        this.storeHealth.ok();
        this.send(ws, { type: 'heartbeat', expiresAt: n > 0 ? expiresAt : null });
        break;
      }
      case 'result':
        await this.result(ws, session, msg);
        break;
      case 'release':
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
    const next: Session = { id: randomUUID(), agentId: msg.agentId, deviceId: msg.device.id };
    if (!this.live.has(next.agentId)) this.live.set(next.agentId, new Set());
    this.live.get(next.agentId)?.add(ws);
    this.o.log?.({ event: 'hello', agentId: msg.agentId, deviceId: msg.device.id, name: msg.device.name, jobsCreated: created });
    this.send(ws, { type: 'welcome', version: PROTOCOL_VERSION, session: next.id, deviceId: next.deviceId, heartbeatMs: this.o.heartbeatMs });
    return next;
  }

  private async result(ws: WebSocket, session: Session, msg: ResultMessage): Promise<void> {
    const { store } = this.o;
    const job = await store.getJob(msg.jobId);
    if (!job) {
      this.fail(ws, session, 'unknown_job', `unknown job '${msg.jobId}'`, { field: 'jobId', resultId: msg.resultId });
      return;
    }
    // Who may complete a leased job: the agent holding the lease, or another agent of the same
    // device once that agent is gone (a restarted agent re-sending its outbox: its earlier process
    // held the lease). While the lease's agent is connected and its lease lasts, the job is its own.
    const holder = job.status === 'leased' ? job.leaseOwner : null;
    const own = holder === session.agentId;
    if (!own && holder !== null && job.deviceId === session.deviceId && (job.leaseExpiresAt ?? 0) > Date.now() && this.live.has(holder)) {
      this.fail(ws, session, 'leased_elsewhere', `job '${job.id}' is leased to agent '${holder}', which is still connected: only it completes the job while its lease lasts; send this result again later`, { field: 'jobId', resultId: msg.resultId });
      return;
    }
    const task = job.task;
    const measurement: Measurement = {
      id: msg.resultId,
      deviceId: session.deviceId,
      passId: msg.passId,
      level: task.level,
      space: task.space,
      key: task.key,
      spec: task.level === 'op' ? task.spec : null,
      batch: msg.batch,
      warmup: msg.warmup,
      stats: msg.stats,
      wallMs: msg.wallMs,
      calibrationMs: msg.calibrationMs,
      createdAt: msg.createdAt,
      jobId: msg.jobId,
    };
    // an anchor only goes with a network job (an agent has no business sending one for an op)
    if (task.level === 'network' && typeof msg.anchorMs === 'number') measurement.anchorMs = msg.anchorMs;
    if (msg.cold) measurement.cold = msg.cold;
    if (msg.quality) measurement.quality = msg.quality;
    try {
      // a network's kernels timed in context are stored with its measurement (an op job has none to send)
      const kernels = task.level === 'network' && msg.kernels ? { kernels: msg.kernels } : {};
      const outcome = await store.completeJob({ jobId: msg.jobId, deviceId: session.deviceId, measurement, ...kernels });
      this.storeHealth.ok();
      if (outcome === 'duplicate') this.stats.duplicates++;
      else this.stats.results++;
      if (!own && outcome !== 'duplicate') {
        this.o.log?.({
          event: 'result_from_other_agent', jobId: msg.jobId, deviceId: session.deviceId, agentId: session.agentId, leaseOwner: holder,
          reason: holder !== null ? 'the agent holding the lease is gone' : 'the job is not leased now (its lease was released or expired)',
        });
      }
      if (outcome === 'requeued') {
        // stored marked; the job waits and is measured again when the device may be quieter
        this.stats.requeued++;
        this.o.log?.({ event: 'result_disturbed', jobId: msg.jobId, deviceId: session.deviceId, evidence: msg.quality?.evidence ?? [] });
      }
      this.send(ws, { type: 'ack', resultIds: [msg.resultId] });
    } catch (e) {
      if (e instanceof StoreJobStateError) this.fail(ws, session, e.code, e.message, { field: 'jobId', resultId: msg.resultId });
      else if (e instanceof StoreNotFoundError) this.fail(ws, session, 'unknown_job', e.message, { field: 'jobId', resultId: msg.resultId });
      else if (e instanceof StoreValidationError || e instanceof StoreReferenceError || e instanceof StoreConflictError) this.fail(ws, session, 'bad_message', e.message, { resultId: msg.resultId });
      else throw e;
    }
  }

  /**
   * An agent cannot build or run a job: it goes back to the queue with one more failure (given up
   * at MAX_JOB_FAILURES). No reply when recorded, like `release`; a refusal is an `error` carrying
   * the jobId, so the agent does not take it for the answer to a request it is waiting on.
   */
  private async jobFailed(ws: WebSocket, session: Session, msg: JobFailedMessage): Promise<void> {
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
