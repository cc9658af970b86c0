// `hwlat agent --backend ort-web:wasm` as its own process (what `hwlat demo` starts): onnxruntime-web's
// wasm in Node measures a campaign against a real `hwlat serve`, as a device of its own.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createBackend, fingerprint } from '../../agent/index.ts';
import { getJson, spawnHwlat, startServe, until, type HwlatProcess } from '../helpers/procs.ts';

const TOKEN = 'ort-web-secret-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'hwlat-ortweb-'));
const procs: HwlatProcess[] = [];
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

test('hwlat agent --backend ort-web:wasm finishes a campaign as its own device id', { timeout: 120_000 }, async () => {
  const serve = await startServe({ db: join(dir, 'w.sqlite'), token: TOKEN });
  procs.push(serve.proc);
  const agent = spawnHwlat(
    ['agent', '--backend', 'ort-web:wasm', '--threads', '1', '--collector', serve.wsUrl, '--token', TOKEN, '--state-dir', join(dir, 'agent'), '--log-json'],
    'ort-web agent',
  );
  procs.push(agent);
  const start = await agent.waitFor((e) => e.event === 'start');
  const res = await getJson(`${serve.url}/api/campaigns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ space: 'nasbench201', ops: true, maxOps: 3, networks: 1, settings: { batch: 1, warmup: 1, minRepeats: 3, minTimeMs: 0 } }),
  });
  assert.equal(res.status, 201);
  await until(async () => {
    const s = await getJson(`${serve.url}/api/campaigns/${res.body.id}`);
    return s.body.progress.some((p: { deviceId: string; done: number; total: number }) => p.deviceId === start.deviceId && p.done === p.total);
  }, 90_000, 'the ort-web agent to finish the campaign');
  agent.kill('SIGINT');
  assert.equal(await agent.exited, 0, agent.stderr);

  const device = (await getJson(`${serve.url}/api/devices`)).body.devices.find((d: { id: string }) => d.id === start.deviceId);
  assert.deepEqual(device.runtime, { backend: 'ort-web', provider: 'wasm', version: device.runtime.version, threads: 1 });
  // the same machine measured through onnxruntime-node is another device
  const ortNode = await createBackend('ort-node:cpu', { threads: 1 });
  try {
    assert.notEqual((await fingerprint(ortNode.info)).id, start.deviceId);
  } finally {
    await ortNode.dispose();
  }
  const { body } = await getJson(`${serve.url}/api/measurements?device=${start.deviceId}`);
  assert.equal(body.total, 4);
});
