// The collector's doors (issue 16, defect 8): short tokens refused; an ONNX upload for an unknown
// device refused before its body is read; prediction behind the token on request; failed
// authentications rate-limited per address; Host and Origin checked against DNS rebinding.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore, startCollector, type Collector, type CollectorOptions, type SqliteStore } from '../../collector/index.ts';
import { helloFor, rawAgent, TEST_TOKEN } from '../helpers/raw-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-guards-'));
const store: SqliteStore = openStore({ path: join(dir, 'g.sqlite') });
const open: Collector[] = [];
after(async () => {
  for (const c of open) await c.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function collector(extra: Partial<CollectorOptions> = {}): Promise<Collector> {
  const c = await startCollector({ store, token: TEST_TOKEN, port: 0, host: '127.0.0.1', ...extra });
  open.push(c);
  return c;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

/** An HTTP request with full control of the headers (Host included) and the source address. */
function http(c: Collector, o: { method?: string; path: string; headers?: Record<string, string>; body?: string; localAddress?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: c.port, method: o.method ?? 'GET', path: o.path, headers: o.headers, localAddress: o.localAddress }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

test('a token shorter than 16 characters is refused, naming the argument', async () => {
  await assert.rejects(startCollector({ store, token: 'abcd', port: 0 }), { name: 'RangeError', message: /'token' must be a string of at least 16 characters, got 4/ });
  await assert.rejects(startCollector({ store, token: 'fifteen-chars-x', port: 0 }), /at least 16/);
});

test('POST /api/predict/onnx for an unknown device is refused before the body is read', { timeout: 15_000 }, async () => {
  const c = await collector();
  // a raw socket: a 32 MB chunked upload, trickled; a server reading it all first would answer
  // only after it ended (never, here)
  const socket = connect({ host: '127.0.0.1', port: c.port });
  socket.on('error', () => {});
  socket.write(`POST /api/predict/onnx?device=dev-000000000000&space=fbnet HTTP/1.1\r\nHost: 127.0.0.1:${c.port}\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n`);
  let bytesSent = 0;
  let text = '';
  const chunk = Buffer.alloc(256 * 1024, 1);
  const pump = setInterval(() => {
    if (text.length > 0 || socket.destroyed || bytesSent >= 32 * 1024 * 1024) return clearInterval(pump);
    socket.write(`${chunk.length.toString(16)}\r\n`);
    socket.write(chunk);
    socket.write('\r\n');
    bytesSent += chunk.length;
  }, 50);
  await new Promise<void>((resolve) => {
    socket.on('data', (d) => {
      text += d.toString();
      if (/\r\n\r\n[\s\S]*\}/.test(text)) resolve();
    });
    socket.on('close', () => resolve());
  });
  clearInterval(pump);
  socket.destroy();
  assert.match(text, /^HTTP\/1\.1 404 /);
  assert.match(text, /unknown device 'dev-000000000000'/);
  assert.ok(bytesSent < 32 * 1024 * 1024, `answered after ${bytesSent} bytes`);
});

test('prediction is open by default; openPredict: false puts it behind the token', async () => {
  const body = JSON.stringify({ device: 'dev-000000000000', space: 'fbnet', arch: 'x' });
  const post = (c: Collector, path: string, token?: string) =>
    http(c, { method: 'POST', path, body, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const openOne = await collector();
  assert.equal((await post(openOne, '/api/predict')).status, 404, 'open: reaches the handler (unknown device)');
  const closed = await collector({ openPredict: false });
  for (const path of ['/api/predict', '/api/latency/expected', '/api/predict/onnx?device=dev-000000000000&space=fbnet']) {
    const r = await post(closed, path);
    assert.equal(r.status, 401, path);
    assert.match(r.body.error, /Bearer <token>/);
  }
  assert.equal((await http(closed, { path: '/api/devices/dev-000000000000/model?space=fbnet' })).status, 401);
  assert.equal((await post(closed, '/api/predict', TEST_TOKEN)).status, 404, 'with the token: reaches the handler');
  // the other reads stay open
  assert.equal((await http(closed, { path: '/api/devices' })).status, 200);
});

test('failed authentications are rate-limited per address (HTTP and ws); other addresses are not', { timeout: 15_000 }, async () => {
  const c = await collector({ authFailures: { max: 3, windowMs: 60_000 } });
  const campaign = (token: string, localAddress = '127.0.0.1') =>
    http(c, { method: 'POST', path: '/api/campaigns', localAddress, body: JSON.stringify({ space: 'fbnet', networks: 1 }), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
  for (let i = 0; i < 3; i++) assert.equal((await campaign('wrong-token-wrong-token')).status, 401);
  const blocked = await campaign(TEST_TOKEN);
  assert.equal(blocked.status, 429, 'even the right token waits once an address failed too often');
  assert.ok(Number(blocked.headers['retry-after']) > 0);
  await assert.rejects(rawAgent(c.wsUrl), { status: 429 });
  // another address is not held back
  assert.equal((await campaign(TEST_TOKEN, '127.0.0.2')).status, 201);
  // wrong tokens in ws hellos count the same way
  for (let i = 0; i < 3; i++) {
    const a = await rawAgent(c.wsUrl, { localAddress: '127.0.0.3' });
    a.send(helloFor({ deviceId: 'dev-3a3a3a3a3a3a', agentId: 'agent-guess-0001', passId: 'pass-guess-00001', token: `guess-${i}-guess-guess-guess` }));
    assert.equal(await a.closed, 4001);
  }
  await assert.rejects(rawAgent(c.wsUrl, { localAddress: '127.0.0.3' }), { status: 429 });
});

test('requests naming another host are refused (DNS rebinding); a ws upgrade from a foreign page is refused', async () => {
  const c = await collector();
  const get = (host: string) => http(c, { path: '/api/devices', headers: { host } });
  assert.equal((await get(`127.0.0.1:${c.port}`)).status, 200);
  assert.equal((await get(`localhost:${c.port}`)).status, 200);
  assert.equal((await get(`[::1]:${c.port}`)).status, 200);
  const evil = await get(`evil.example:${c.port}`);
  assert.equal(evil.status, 403);
  assert.match(evil.body.error, /DNS rebinding/);
  await assert.rejects(rawAgent(c.wsUrl, { headers: { host: 'evil.example' } }), { status: 403 });
  // Origin: the collector's own pages and non-browser agents get in, other pages do not
  await assert.rejects(rawAgent(c.wsUrl, { origin: 'http://evil.example' }), { status: 403 });
  (await rawAgent(c.wsUrl, { origin: `http://127.0.0.1:${c.port}` })).ws.close();
  (await rawAgent(c.wsUrl)).ws.close();
  // a name the operator allows (the public name behind a reverse proxy)
  const proxied = await collector({ allowedHosts: ['lat.example.com'] });
  assert.equal((await http(proxied, { path: '/api/devices', headers: { host: 'lat.example.com' } })).status, 200);
  assert.equal((await http(proxied, { path: '/api/devices', headers: { host: 'evil.example' } })).status, 403);
  (await rawAgent(proxied.wsUrl, { origin: 'https://lat.example.com', headers: { host: 'lat.example.com' } })).ws.close();
});
