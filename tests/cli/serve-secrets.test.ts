// Secrets stay out of logs and command lines (issue 16, defect 7): `hwlat serve` never prints the
// token unless --print-link asks (once, to the terminal), a generated token is saved beside the
// database readable by its owner only, and the demo hands the token to its agents through the
// environment, not their command lines (which every user sees in `ps`).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AgentProcess } from '../../cli/demo/agents.ts';
import { openStore, startCollector } from '../../collector/index.ts';
import { hwlat } from '../helpers/cli.ts';
import { spawnHwlat, type HwlatProcess } from '../helpers/procs.ts';
import { TEST_TOKEN, waitUntil } from '../helpers/raw-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-secrets-'));
const procs: HwlatProcess[] = [];
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `hwlat serve` until its start-up output is complete; returns stdout and stderr so far. */
async function serveOutput(args: string[], env: Record<string, string>, done: (out: string) => boolean): Promise<{ proc: HwlatProcess; out: string }> {
  // no HWLAT_TOKEN from the environment the tests run in
  const proc = spawnHwlat(['serve', '--port', '0', ...args], 'serve', { HWLAT_TOKEN: '', ...env });
  procs.push(proc);
  let out = '';
  proc.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await waitUntil(() => done(out) || proc.child.exitCode !== null, 30_000, `serve's start-up output; so far:\n${out}\n${proc.stderr}`);
  return { proc, out };
}

async function stop(proc: HwlatProcess): Promise<void> {
  proc.kill('SIGTERM');
  await proc.exited;
}

test('serve --log-json: a generated token is saved beside the database (mode 600), never printed; a restart reuses it', { timeout: 60_000 }, async () => {
  const db = join(dir, 'gen.sqlite');
  const first = await serveOutput(['--db', db, '--log-json'], {}, (out) => out.includes('"listening"'));
  const token = readFileSync(`${db}.token`, 'utf8').trim();
  assert.ok(token.length >= 32);
  assert.equal(statSync(`${db}.token`).mode & 0o777, 0o600);
  assert.ok(!first.out.includes(token) && !first.proc.stderr.includes(token), 'the token is in no log line');
  const listening = first.proc.events.find((e) => e.event === 'listening')!;
  assert.match(listening.agentUrl, /\/agent\?token=\*\*\*$/);
  assert.deepEqual([listening.tokenSource, listening.tokenFile], ['generated', `${db}.token`]);
  // the token works, and only it
  const post = (t: string) => fetch(`${listening.url}/api/campaigns`, { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: '{}' });
  assert.equal((await post(token)).status, 400, 'authorised (and the empty campaign refused)');
  assert.equal((await post('x'.repeat(32))).status, 401);
  await stop(first.proc);
  const second = await serveOutput(['--db', db, '--log-json'], {}, (out) => out.includes('"listening"'));
  assert.equal(second.proc.events.find((e) => e.event === 'listening')!.tokenSource, 'saved');
  assert.equal(readFileSync(`${db}.token`, 'utf8').trim(), token);
  await stop(second.proc);
});

test('serve (text): the link is shown masked unless --print-link asks; --print-link with --log-json writes it to stderr only', { timeout: 60_000 }, async () => {
  const secret = 'text-mode-secret-0123456789';
  const text = await serveOutput(['--db', join(dir, 'text.sqlite'), '--token', secret], {}, (out) => out.includes('browser:'));
  assert.ok(!text.out.includes(secret), `stdout holds the token:\n${text.out}`);
  assert.match(text.out, /browser: +http:\/\/127\.0\.0\.1:\d+\/agent\?token=\*\*\* +\(run with --print-link/);
  assert.match(text.out, /agents: +HWLAT_TOKEN=<your token> npx hwlat agent --collector ws:/);
  await stop(text.proc);

  const file = join(dir, 'token.txt');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  const json = await serveOutput(['--db', join(dir, 'json.sqlite'), '--token-file', file, '--log-json', '--print-link'], {}, (out) => out.includes('"listening"'));
  await waitUntil(() => json.proc.stderr.includes('browser agent link'), 10_000, 'the link on stderr');
  assert.ok(!json.out.includes(secret), 'not in the JSON event stream');
  assert.match(json.proc.stderr, new RegExp(`browser agent link \\(holds the token\\): http://127\\.0\\.0\\.1:\\d+/agent\\?token=${secret}`));
  assert.equal(json.proc.events.find((e) => e.event === 'listening')!.tokenSource, 'file');
  await stop(json.proc);
});

test('serve refuses a token shorter than 16 characters, naming where it came from', { timeout: 30_000 }, async () => {
  const r = await hwlat(['serve', '--db', join(dir, 'short.sqlite'), '--port', '0', '--token', 'abcd']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the token \(from '--token'\) has 4 characters; it needs at least 16/);
});

test("the demo's agents get the token through the environment, not their command line", { timeout: 60_000 }, async () => {
  const store = openStore({ path: join(dir, 'demo.sqlite') });
  const collector = await startCollector({ store, token: TEST_TOKEN, port: 0, host: '127.0.0.1' });
  const agent = new AgentProcess({ spec: { backend: 'ort-node:cpu', threads: 1 }, wsUrl: collector.wsUrl, token: TEST_TOKEN, stateDir: join(dir, 'demo-agent') });
  try {
    const pid = agent.pid!;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('--collector') && !cmdline.some((a) => a.includes(TEST_TOKEN)), `command line: ${cmdline.join(' ')}`);
    assert.ok(!cmdline.includes('--token'));
    // and it still authenticates: the collector welcomes it
    await waitUntil(() => agent.events.some((e) => e.event === 'connected') || !agent.running, 40_000, `the agent to connect; stderr: ${agent.stderr}`);
    assert.ok(agent.events.some((e) => e.event === 'connected'), agent.stderr);
  } finally {
    await agent.stop();
    await collector.close();
    store.close();
  }
});

test('serve --open-predict=false puts prediction behind the token; --allowed-host names a host', { timeout: 60_000 }, async () => {
  const s = await serveOutput(['--db', join(dir, 'closed.sqlite'), '--token', TEST_TOKEN, '--log-json', '--open-predict=false', '--allowed-host', 'lat.example.com'], {}, (out) => out.includes('"listening"'));
  const listening = s.proc.events.find((e) => e.event === 'listening')!;
  assert.equal(listening.openPredict, false);
  const predict = (token?: string) =>
    fetch(`${listening.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ device: 'dev-000000000000', space: 'fbnet', arch: 'x' }) });
  assert.equal((await predict()).status, 401);
  assert.equal((await predict(TEST_TOKEN)).status, 404);
  await stop(s.proc);
  const bad = await hwlat(['serve', '--db', join(dir, 'bad.sqlite'), '--port', '0', '--token', TEST_TOKEN, '--open-predict', 'maybe']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /'--open-predict' must be true or false, got 'maybe'/);
});
