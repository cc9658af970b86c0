// An agent given several collectors (replicas on one database) uses one and fails over to the next
// when it fails, carrying its outbox. Real ws servers on 127.0.0.1 stand in for the collectors here
// (each frame checked against the protocol); tests/e2e/failover.test.ts runs real `hwlat serve`
// processes and kills one.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { CollectorConnection, collectorUrls, failoverDelay, Outbox, type AgentEvent } from '../../agent/index.ts';
import { parseCollectors } from '../../cli/commands/agent.ts';
import {
  AgentMessageSchema, PROTOCOL_VERSION, ServerMessageSchema,
  type AgentMessage, type Hello, type ResultMessage, type ServerMessage,
} from '../../protocol/index.ts';
import { freePort } from '../helpers/procs.ts';
import { GOOD_STATS, testDevice } from '../helpers/raw-agent.ts';

const dirs: string[] = [];
/** every connection and scripted collector a test opened: closed here too, so a failed assertion leaves nothing running */
const live: Array<() => Promise<void>> = [];
after(async () => {
  for (const stop of live.splice(0)) await stop().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
/** a connection closed after the tests whatever happens to the test that opened it */
function connection(options: ConstructorParameters<typeof CollectorConnection>[0]): CollectorConnection {
  const conn = new CollectorConnection(options);
  live.push(() => conn.close());
  return conn;
}
function outbox(): Outbox {
  const d = mkdtempSync(join(tmpdir(), 'hwlat-failover-'));
  dirs.push(d);
  return new Outbox(join(d, 'outbox'));
}

/** A scripted collector: welcomes every hello, records every (valid) agent frame, acks results when `acking`. */
async function collector(name: string) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const received: AgentMessage[] = [];
  const problems: string[] = [];
  const state: { acking: boolean; hellos: number; refuse: 'version' | 'unauthorized' | null } = { acking: false, hellos: 0, refuse: null };
  wss.on('connection', (ws: WebSocket) => {
    const send = (m: ServerMessage) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(ServerMessageSchema.parse(m)));
    ws.on('message', (data) => {
      const parsed = AgentMessageSchema.safeParse(JSON.parse(String(data)));
      if (!parsed.success) return void problems.push(parsed.error.message);
      const msg = parsed.data;
      received.push(msg);
      if (msg.type === 'hello') {
        state.hellos++;
        // a replica of another protocol version (mid-upgrade), or one that does not take the token
        if (state.refuse) return void send({ type: 'error', code: state.refuse, message: `refused by ${name}` });
        send({ type: 'welcome', version: PROTOCOL_VERSION, session: `${name}-${state.hellos}`, deviceId: msg.device.id, heartbeatMs: 1000 });
      } else if (msg.type === 'result' && state.acking) {
        send({ type: 'ack', resultIds: [msg.resultId] });
      } else if (msg.type === 'lease_request') {
        send({ type: 'lease', leaseId: null, jobs: [], expiresAt: null, retryAfterMs: 1000 });
      }
    });
  });
  const { port } = wss.address() as { port: number };
  let killed = false;
  const kill = async () => {
    if (killed) return;
    killed = true;
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  live.push(kill);
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    received,
    problems,
    state,
    results: () => received.filter((m): m is ResultMessage => m.type === 'result').map((m) => m.resultId),
    /** the collector dies: every socket cut, nothing listens on the port any more */
    kill,
  };
}

const device = testDevice('dev-0123456789ab', 'failover test');
const hello: Hello = {
  type: 'hello', version: PROTOCOL_VERSION, token: 'test-token-0123456789', agentId: 'agent-failover', device,
  pass: { id: 'pass-failover', startedAt: new Date().toISOString(), calibrationKey: 'calib' },
};
function result(id: string): ResultMessage {
  return { type: 'result', resultId: id, jobId: `job-${id}`, passId: hello.pass.id, stats: GOOD_STATS, batch: 1, warmup: 1, wallMs: 5, calibrationMs: 1, createdAt: new Date().toISOString() };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('failoverDelay: no wait inside a round of collectors, the round backoff after it', () => {
  const o = { baseMs: 100, capMs: 1000, random: () => 0.5 };
  // three collectors: the 1st and 2nd failures move on at once, the 3rd ends round 0
  assert.deepEqual([1, 2, 3, 4, 5, 6, 9].map((f) => failoverDelay(f, 3, o)), [0, 0, 50, 0, 0, 100, 200]);
  // one collector: each failure is a round, the backoff as before
  assert.deepEqual([1, 2, 3].map((f) => failoverDelay(f, 1, o)), [50, 100, 200]);
  assert.equal(failoverDelay(0, 2, o), 0);
});

test('collector lists: checked, each bad URL named, duplicates refused', () => {
  assert.deepEqual(collectorUrls('ws://a:1/ws'), ['ws://a:1/ws']);
  assert.deepEqual(collectorUrls(['ws://a:1/ws', 'wss://b/ws']), ['ws://a:1/ws', 'wss://b/ws']);
  assert.throws(() => collectorUrls([]), /non-empty list/);
  assert.throws(() => collectorUrls(['ws://a:1/ws', 'http://b/ws']), /'http:\/\/b\/ws'/);
  assert.throws(() => collectorUrls(['ws://a:1/ws', 'ws://a:1/ws']), /twice/);
  assert.throws(() => new CollectorConnection({ url: ['ws://a:1/ws', 'nope'], hello, outbox: outbox() }), /'nope'/);
  // the CLI flag: comma-separated
  assert.deepEqual(parseCollectors('ws://a:1/ws, ws://b:2/ws'), ['ws://a:1/ws', 'ws://b:2/ws']);
  assert.throws(() => parseCollectors('ws://a:1/ws,b:2'), /'--collector' .*'b:2' is not one/);
  assert.throws(() => parseCollectors('ws://a:1/ws,ws://a:1/ws'), /twice/);
});

test('a dead first collector: the agent connects to the next at once, with no backoff', { timeout: 20_000 }, async () => {
  const dead = `ws://127.0.0.1:${await freePort()}/ws`;
  const b = await collector('b');
  const events: AgentEvent[] = [];
  // a backoff so long the test would time out if the agent waited one before trying the second
  const conn = connection({ url: [dead, b.url], hello, outbox: outbox(), backoff: { baseMs: 60_000, capMs: 60_000 }, log: (e) => events.push(e) });
  const t0 = Date.now();
  conn.start();
  const w = await conn.ready();
  assert.equal(w.session, 'b-1');
  assert.equal(conn.url, b.url);
  assert.ok(Date.now() - t0 < 5000, `connected after ${Date.now() - t0} ms`);
  const failover = events.find((e) => e.event === 'failover');
  assert.deepEqual({ from: failover?.from, to: failover?.to, retryInMs: failover?.retryInMs }, { from: dead, to: b.url, retryInMs: 0 });
  await conn.close();
  await b.kill();
});

test('a collector that dies mid-run: unacked results go to the next one under the same ids, acked ones are not sent again', { timeout: 30_000 }, async () => {
  const a = await collector('a');
  const b = await collector('b');
  b.state.acking = true;
  const box = outbox();
  const events: AgentEvent[] = [];
  const conn = connection({ url: [a.url, b.url], hello, outbox: box, backoff: { baseMs: 50, capMs: 200 }, pingMs: 0, log: (e) => events.push(e) });
  conn.start();
  assert.equal((await conn.ready()).session, 'a-1');
  // r1 is acked by a; r2 and r3 reach a but a dies before acking them; r4 is measured while no collector is there
  a.state.acking = true;
  await conn.submit(result('result-r1'));
  await until('r1 acked', async () => (await box.list()).length === 0);
  a.state.acking = false;
  await conn.submit(result('result-r2'));
  await conn.submit(result('result-r3'));
  await until('r2 and r3 at a', () => a.results().includes('result-r3'));
  await a.kill();
  await conn.submit(result('result-r4'));
  // the lease request in flight when a died is asked again of b
  const lease = conn.request({ type: 'lease_request', max: 2 }, 'lease', { timeoutMs: 10_000 });
  assert.equal((await lease).leaseId, null);
  assert.equal(conn.url, b.url);
  await until('the outbox empty', async () => (await box.list()).length === 0);
  // b got exactly the unacked ones, each once, and before the lease request (the outbox goes first)
  assert.deepEqual(b.results().sort(), ['result-r2', 'result-r3', 'result-r4']);
  const order = b.received.map((m) => m.type);
  assert.ok(order.lastIndexOf('result') < order.indexOf('lease_request'), `results before the lease request: ${order.join(', ')}`);
  assert.equal(b.received.filter((m) => m.type === 'hello').length, 1);
  assert.deepEqual(a.results(), ['result-r1', 'result-r2', 'result-r3']);
  assert.ok(events.some((e) => e.event === 'failover' && e.from === a.url && e.to === b.url));
  assert.deepEqual([...a.problems, ...b.problems], []);
  await conn.close();
  await b.kill();
});

test('all collectors down: rounds back off, then the first to come back gets the agent', { timeout: 30_000 }, async () => {
  const portA = await freePort();
  const portB = await freePort();
  const urls = [`ws://127.0.0.1:${portA}/ws`, `ws://127.0.0.1:${portB}/ws`];
  const events: AgentEvent[] = [];
  const conn = connection({ url: urls, hello, outbox: outbox(), backoff: { baseMs: 100, capMs: 400, random: () => 0.99 }, log: (e) => events.push(e) });
  conn.start();
  await until('two rounds failed', () => events.filter((e) => e.event === 'failover').length >= 4);
  // inside a round: no wait; at the end of round r: the backoff of round r
  const delays = events.filter((e) => e.event === 'failover').slice(0, 4).map((e) => e.retryInMs);
  assert.deepEqual(delays, [0, 99, 0, 198]);
  // b comes back on its port
  const wss = new WebSocketServer({ host: '127.0.0.1', port: portB });
  await once(wss, 'listening');
  wss.on('connection', (ws) =>
    ws.on('message', (d) => {
      const m = JSON.parse(String(d));
      if (m.type === 'hello') ws.send(JSON.stringify({ type: 'welcome', version: PROTOCOL_VERSION, session: 'b-back', deviceId: device.id, heartbeatMs: 1000 }));
    }),
  );
  assert.equal((await conn.ready()).session, 'b-back');
  assert.equal(conn.url, urls[1]);
  await conn.close();
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
});

test('a collector that refuses the agent (version, token): the agent goes on to the next; it stops only when every one refused', { timeout: 30_000 }, async () => {
  const a = await collector('a');
  const b = await collector('b');
  a.state.refuse = 'version';
  const events: AgentEvent[] = [];
  const conn = connection({ url: [a.url, b.url], hello, outbox: outbox(), backoff: { baseMs: 50, capMs: 100 }, log: (e) => events.push(e) });
  conn.start();
  const w = await conn.ready();
  assert.equal(w.session, 'b-1', 'welcomed by the second collector');
  assert.equal(conn.fatalError, null);
  const refused = events.find((e) => e.event === 'refused');
  assert.deepEqual({ url: refused?.url, code: refused?.code }, { url: a.url, code: 'version' });
  await conn.close();
  await a.kill();
  await b.kill();

  const c = await collector('c');
  const d = await collector('d');
  c.state.refuse = 'version';
  d.state.refuse = 'unauthorized';
  const events2: AgentEvent[] = [];
  const conn2 = connection({ url: [c.url, d.url], hello, outbox: outbox(), backoff: { baseMs: 50, capMs: 100 }, log: (e) => events2.push(e) });
  conn2.start();
  await assert.rejects(conn2.ready(), (e: Error) => e.name === 'CollectorRefusedError' && /unauthorized/.test(e.message) && e.message.includes(d.url));
  assert.equal(c.state.hellos, 1, 'each collector asked once, no retry loop against refusals');
  assert.equal(d.state.hellos, 1);
  assert.deepEqual(events2.filter((e) => e.event === 'refused' || e.event === 'fatal').map((e) => [e.event, e.code]), [['refused', 'version'], ['fatal', 'unauthorized']]);
  await conn2.close();
  await c.kill();
  await d.kill();
});

test('a result submitted while a welcome re-sends the outbox goes out once on that socket', { timeout: 20_000 }, async () => {
  const b = await collector('b');
  const real = outbox();
  // an outbox whose listing is slow (a busy disk, IndexedDB in a busy tab): the welcome's re-send
  // lists it while a new result is submitted, and the listing then holds that result too
  let slow = false;
  const box = {
    put: (r: ResultMessage) => real.put(r),
    remove: (ids: readonly string[]) => real.remove(ids),
    list: async () => {
      if (slow) await new Promise((r) => setTimeout(r, 300));
      return real.list();
    },
  };
  await real.put(result('result-old'));
  slow = true;
  const events: AgentEvent[] = [];
  const conn = connection({ url: [b.url], hello, outbox: box, pingMs: 0, log: (e) => events.push(e) });
  conn.start();
  await until('welcomed', () => events.some((e) => e.event === 'connected'));
  await conn.submit(result('result-new'));
  await until('both at b', () => b.results().includes('result-old') && b.results().includes('result-new'));
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(b.results().sort(), ['result-new', 'result-old'], 'each result once');
  await conn.close();
  await b.kill();
});
