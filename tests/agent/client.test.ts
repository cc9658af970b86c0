import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  backoffDelay, CALIBRATION_KEY, CollectorRefusedError, createBackend, fingerprint, Outbox, runAgent,
  type AgentEvent, type RuntimeBackend,
} from '../../agent/index.ts';
import {
  AgentMessageSchema, PROTOCOL_VERSION, ServerMessageSchema,
  type AgentMessage, type DeviceProfile, type Job, type ResultMessage, type ServerMessage,
} from '../../protocol/index.ts';

const SETTINGS = { batch: 1, warmup: 1, minRepeats: 3, minTimeMs: 0 };
const OP_JOB: Job = {
  id: 'job-op-conv',
  campaignId: 'camp-1',
  task: { level: 'op', space: null, key: 'conv-test', spec: { op: 'conv2d', input: [4, 8, 8], out: 8, kernel: 3 } },
  settings: SETTINGS,
};
const NET_JOB: Job = {
  id: 'job-net-nb201',
  campaignId: 'camp-1',
  task: { level: 'network', space: 'nasbench201', key: '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|' },
  settings: SETTINGS,
};
const BAD_JOB: Job = { id: 'job-bad-space', campaignId: 'camp-1', task: { level: 'network', space: 'no-such-space', key: 'x' }, settings: SETTINGS };

interface Conn {
  n: number;
  ws: WebSocket;
  send(msg: ServerMessage): void;
}

/** A minimal scripted collector on 127.0.0.1: every agent frame is checked against the protocol. */
async function scriptedCollector(onMessage: (conn: Conn, msg: AgentMessage) => void) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const problems: string[] = [];
  const received: Array<{ conn: number; msg: AgentMessage }> = [];
  let connections = 0;
  wss.on('connection', (ws) => {
    const conn: Conn = { n: ++connections, ws, send: (m) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(ServerMessageSchema.parse(m))) };
    ws.on('message', (data) => {
      const parsed = AgentMessageSchema.safeParse(JSON.parse(String(data)));
      if (!parsed.success) {
        problems.push(`invalid agent message: ${parsed.error.message}`);
        return;
      }
      received.push({ conn: conn.n, msg: parsed.data });
      onMessage(conn, parsed.data);
    });
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/agent`,
    problems,
    received,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function welcome(conn: Conn, hello: AgentMessage, heartbeatMs = 1000): void {
  assert.equal(hello.type, 'hello');
  conn.send({ type: 'welcome', version: PROTOCOL_VERSION, session: `session-${conn.n}`, deviceId: hello.type === 'hello' ? hello.device.id : '', heartbeatMs });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let backend: RuntimeBackend;
let device: DeviceProfile;
const dirs: string[] = [];
function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hwlat-agent-'));
  dirs.push(d);
  return d;
}

before(async () => {
  backend = await createBackend('ort-node', { threads: 1 });
  device = await fingerprint(backend.info);
});
after(async () => {
  await backend?.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('backoff is exponential with full jitter, capped', () => {
  assert.equal(backoffDelay(0, { random: () => 0.999 }), 199);
  assert.equal(backoffDelay(3, { random: () => 0.5 }), 800);
  assert.equal(backoffDelay(20, { random: () => 0.5 }), 2500);
  assert.equal(backoffDelay(5, { baseMs: 10, capMs: 100, random: () => 0.5 }), 50);
  assert.equal(backoffDelay(4, { random: () => 0 }), 0);
});

test('measures a lease, keeps unacked results in the outbox across a dropped connection, re-sends them', { timeout: 90_000 }, async () => {
  const firstResults: ResultMessage[] = [];
  const secondResults: ResultMessage[] = [];
  const heartbeats: string[][] = [];
  let leased = false;
  const server = await scriptedCollector((conn, msg) => {
    switch (msg.type) {
      case 'hello':
        welcome(conn, msg);
        // junk the agent must log and ignore
        conn.ws.send('this is not json');
        conn.ws.send(JSON.stringify({ type: 'lease', jobs: 'nope' }));
        break;
      case 'lease_request':
        if (!leased) {
          leased = true;
          conn.send({ type: 'lease', leaseId: 'lease-1', jobs: [OP_JOB, BAD_JOB, NET_JOB], expiresAt: Date.now() + 60_000 });
        } else {
          conn.send({ type: 'lease', leaseId: null, jobs: [], expiresAt: null, retryAfterMs: 50 });
        }
        break;
      case 'heartbeat':
        heartbeats.push(msg.leaseIds);
        conn.send({ type: 'heartbeat', expiresAt: Date.now() + 60_000 });
        break;
      case 'result':
        if (conn.n === 1) {
          // withhold the acks, then drop the connection once both results are in
          firstResults.push(msg);
          if (firstResults.length === 2) conn.ws.terminate();
        } else {
          secondResults.push(msg);
          conn.send({ type: 'ack', resultIds: [msg.resultId] });
        }
        break;
      case 'release':
      case 'job_failed':
        break;
    }
  });
  const events: AgentEvent[] = [];
  const ctl = new AbortController();
  const dir = stateDir();
  try {
    const run = runAgent({
      collector: server.url,
      token: 'secret-token',
      backend,
      device,
      stateDir: dir,
      name: 'test box',
      heartbeatMs: 5,
      backoff: { baseMs: 50, capMs: 200 },
      log: (e) => events.push(e),
      signal: ctl.signal,
    });
    run.catch(() => {}); // awaited below; keeps an early rejection from going unhandled
    const outbox = new Outbox(join(dir, 'outbox'));
    await until('the re-sent results', () => secondResults.length >= 2);
    await until('an empty outbox', async () => (await outbox.list()).length === 0);
    await until('the ack events', () => events.filter((e) => e.event === 'ack').length >= 2);
    ctl.abort();
    const summary = await run;

    assert.deepEqual(server.problems, []);
    assert.equal(server.connections, 2, 'one reconnect after the drop');
    const hellos = server.received.filter((r) => r.msg.type === 'hello').map((r) => r.msg as Extract<AgentMessage, { type: 'hello' }>);
    assert.equal(hellos.length, 2, 'hello on every connect');
    assert.equal(hellos[0]?.agentId, hellos[1]?.agentId, 'agent id stable across reconnects');
    assert.equal(hellos[0]?.pass.id, hellos[1]?.pass.id);
    assert.equal(hellos[0]?.pass.calibrationKey, CALIBRATION_KEY);
    assert.equal(hellos[0]?.token, 'secret-token');
    assert.equal(hellos[0]?.device.name, 'test box');
    assert.equal(hellos[0]?.device.id, device.id);

    // the same result ids came again from the outbox after the reconnect
    assert.deepEqual(secondResults.map((r) => r.resultId).sort(), firstResults.map((r) => r.resultId).sort());
    assert.deepEqual(firstResults.map((r) => r.jobId).sort(), [NET_JOB.id, OP_JOB.id].sort());
    for (const r of firstResults) {
      assert.equal(r.passId, hellos[0]?.pass.id);
      assert.equal(r.batch, 1);
      assert.equal(r.warmup, 1);
      assert.ok(r.stats.repeats + r.stats.outliers >= 3);
      assert.ok(r.stats.median > 0);
      assert.ok((r.calibrationMs ?? 0) > 0, 'each result carries its calibration');
    }
    assert.ok(heartbeats.length >= 1 && heartbeats.every((h) => h.join() === 'lease-1'), `heartbeats while measuring: ${JSON.stringify(heartbeats)}`);

    const failed = events.filter((e) => e.event === 'job_failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.jobId, BAD_JOB.id);
    assert.match(String(failed[0]?.message), /no-such-space/);
    assert.equal(failed[0]?.stage, 'build');
    assert.equal(failed[0]?.sent, true);
    // the collector hears of it, so it can requeue the job (and give up on it) instead of waiting for the lease to expire
    const reported = server.received.filter((r) => r.msg.type === 'job_failed');
    assert.equal(reported.length, 1);
    const report = reported[0]!.msg as Extract<AgentMessage, { type: 'job_failed' }>;
    assert.equal(reported[0]!.conn, 1);
    assert.equal(report.jobId, BAD_JOB.id);
    assert.match(report.error, /no-such-space/);
    assert.equal(events.filter((e) => e.event === 'invalid_message').length, 4, 'two junk frames on each connection, ignored');
    const acked = events.filter((e) => e.event === 'ack').flatMap((e) => e.resultIds as string[]);
    assert.deepEqual(acked.sort(), firstResults.map((r) => r.resultId).sort());
    assert.ok(events.some((e) => e.event === 'resend' && e.count === 2));
    assert.equal(summary.results, 2);
    assert.equal(summary.failedJobs, 1);
    assert.equal(summary.pending, 0);
    assert.equal(summary.acked, 2);
    assert.deepEqual(await new Outbox(join(dir, 'outbox')).list(), []);
  } finally {
    ctl.abort();
    await server.close();
  }
});

test('an error refusing a job_failed is not taken for the reply to the lease request the agent waits on', { timeout: 60_000 }, async () => {
  let leases = 0;
  let reported: string | null = null;
  const server = await scriptedCollector((conn, msg) => {
    if (msg.type === 'hello') welcome(conn, msg);
    else if (msg.type === 'job_failed') reported = msg.jobId;
    else if (msg.type === 'lease_request') {
      if (++leases === 1) {
        conn.send({ type: 'lease', leaseId: 'lease-bad', jobs: [BAD_JOB], expiresAt: Date.now() + 60_000 });
        return;
      }
      // refuse the report only now, while the agent waits for its next lease
      if (reported !== null) {
        conn.send({ type: 'error', code: 'not_leased', message: `job '${reported}' is not leased`, field: 'jobId', jobId: reported });
        reported = null;
      }
      conn.send({ type: 'lease', leaseId: null, jobs: [], expiresAt: null, retryAfterMs: 50 });
    }
  });
  const events: AgentEvent[] = [];
  const ctl = new AbortController();
  try {
    const run = runAgent({ collector: server.url, token: 't', backend, device, stateDir: stateDir(), log: (e) => events.push(e), signal: ctl.signal });
    run.catch(() => {});
    await until('the agent to go idle', () => events.some((e) => e.event === 'idle'));
    ctl.abort();
    const summary = await run;
    assert.deepEqual(server.problems, []);
    assert.equal(summary.failedJobs, 1);
    assert.ok(events.some((e) => e.event === 'error' && e.code === 'not_leased' && e.jobId === BAD_JOB.id), 'the refusal is logged');
    assert.deepEqual(events.filter((e) => e.event === 'lease_failed'), [], 'the lease request got its own reply');
    assert.equal(events.filter((e) => e.event === 'released').length, 0, 'no reply went unclaimed');
  } finally {
    ctl.abort();
    await server.close();
  }
});

test("a wrong token stops the agent with a clear error and no reconnect loop", { timeout: 30_000 }, async () => {
  const server = await scriptedCollector((conn, msg) => {
    if (msg.type === 'hello') {
      conn.send({ type: 'error', code: 'unauthorized', message: 'wrong token' });
      conn.ws.close(4001, 'unauthorized');
    }
  });
  const events: AgentEvent[] = [];
  try {
    await assert.rejects(
      runAgent({ collector: server.url, token: 'wrong', backend, device, stateDir: stateDir(), backoff: { baseMs: 10, capMs: 20 }, log: (e) => events.push(e) }),
      (e: unknown) => {
        assert.ok(e instanceof CollectorRefusedError);
        assert.equal(e.code, 'unauthorized');
        assert.match(e.message, /refused the agent: unauthorized \(wrong token\); check the agent's token/);
        return true;
      },
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(server.connections, 1, 'no retries after unauthorized');
    assert.ok(events.some((e) => e.event === 'fatal' && e.code === 'unauthorized'));
  } finally {
    await server.close();
  }
});

test('a result the collector refuses for good is dropped from the outbox', { timeout: 60_000 }, async () => {
  let leased = false;
  const server = await scriptedCollector((conn, msg) => {
    if (msg.type === 'hello') welcome(conn, msg);
    else if (msg.type === 'lease_request') {
      if (leased) conn.send({ type: 'lease', leaseId: null, jobs: [], expiresAt: null, retryAfterMs: 50 });
      else {
        leased = true;
        conn.send({ type: 'lease', leaseId: 'lease-x', jobs: [OP_JOB], expiresAt: Date.now() + 60_000 });
      }
    } else if (msg.type === 'result') {
      conn.send({ type: 'error', code: 'unknown_job', message: `unknown job '${msg.jobId}'`, field: 'jobId', resultId: msg.resultId });
    }
  });
  const events: AgentEvent[] = [];
  const ctl = new AbortController();
  const dir = stateDir();
  try {
    const run = runAgent({ collector: server.url, token: 't', backend, device, stateDir: dir, log: (e) => events.push(e), signal: ctl.signal });
    run.catch(() => {});
    await until('the dropped result', () => events.some((e) => e.event === 'result_dropped'));
    ctl.abort();
    const summary = await run;
    assert.deepEqual(server.problems, []);
    assert.equal(events.find((e) => e.event === 'result_dropped')?.code, 'unknown_job');
    assert.equal(summary.pending, 0);
    assert.deepEqual(await new Outbox(join(dir, 'outbox')).list(), []);
    assert.equal(server.connections, 1, 'a refused result is no reason to reconnect');
  } finally {
    ctl.abort();
    await server.close();
  }
});

test('a stop finishes the group in hand, sends its results, releases the rest and waits for the acks', { timeout: 60_000 }, async () => {
  const other: Job = { ...NET_JOB, id: 'job-other-settings', settings: { ...SETTINGS, minRepeats: 4 } };
  let leased = false;
  const releases: string[][] = [];
  const results: ResultMessage[] = [];
  const server = await scriptedCollector((conn, msg) => {
    if (msg.type === 'hello') welcome(conn, msg);
    else if (msg.type === 'lease_request') {
      if (leased) conn.send({ type: 'lease', leaseId: null, jobs: [], expiresAt: null, retryAfterMs: 50 });
      else {
        leased = true;
        conn.send({ type: 'lease', leaseId: 'lease-2', jobs: [OP_JOB, other], expiresAt: Date.now() + 60_000 });
      }
    } else if (msg.type === 'result') {
      results.push(msg);
      // ack late, to show the stop waits for it
      setTimeout(() => conn.send({ type: 'ack', resultIds: [msg.resultId] }), 300);
    } else if (msg.type === 'release') releases.push(msg.leaseIds);
  });
  const events: AgentEvent[] = [];
  const ctl = new AbortController();
  try {
    const summary = await runAgent({
      collector: server.url, token: 't', backend, device, stateDir: stateDir(), signal: ctl.signal,
      log: (e) => {
        events.push(e);
        // Ctrl-C while the first of the lease's two settings groups is being measured
        if (e.event === 'measuring') ctl.abort();
      },
    });
    assert.deepEqual(server.problems, []);
    assert.deepEqual(results.map((r) => r.jobId), [OP_JOB.id], 'the group in hand finished; the other was not started');
    assert.deepEqual(releases, [['lease-2']]);
    assert.equal(summary.results, 1);
    assert.equal(summary.acked, 1, 'waited for the late ack');
    assert.equal(summary.pending, 0);
    assert.equal(events.at(-1)?.event, 'stopped');
  } finally {
    ctl.abort();
    await server.close();
  }
});
