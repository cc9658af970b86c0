import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../collector/index.ts';
import { KernelProfileRecordSchema } from '../../protocol/index.ts';
import { hwlat } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-cli-kernels-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const QUICK = ['--repeats', '3', '--min-time', '0', '--warmup', '1'];

test('hwlat profile --kernels stores each network with its kernels timed in context, linked to its measurement', async () => {
  const db = join(dir, 'k.sqlite');
  const arch = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|';
  const res = await hwlat(['profile', '--space', 'nasbench201', '--networks', '1', '--arch', arch, '--kernels', '--db', db, '--seed', '3', '--json', ...QUICK]);
  assert.equal(res.code, 0, res.stderr);
  const summary = JSON.parse(res.stdout);
  assert.equal(summary.networks, 2);
  assert.equal(summary.kernels.profiles, 2);
  assert.ok(summary.kernels.kernels > 40, `kernels ${summary.kernels.kernels}`);
  assert.ok(summary.kernels.medianCoverage > 0 && summary.kernels.medianCoverage <= 1);
  assert.ok(summary.kernels.medianProfilerOverhead > 0);
  assert.equal(summary.kernels.ops[0].op, 'com.microsoft.nchwc:Conv');

  const store = openStore({ path: db });
  try {
    const nets = (await store.listMeasurements({ level: 'network' }));
    const profiles = (await store.listKernelProfiles());
    assert.equal(profiles.length, 2);
    for (const p of profiles) {
      KernelProfileRecordSchema.parse(p);
      const m = nets.find((n) => n.id === p.measurementId);
      assert.ok(m, `profile ${p.id} names a stored measurement`);
      assert.equal(p.key, m.key);
      assert.equal(p.calibrationMs, m.calibrationMs);
    }
    assert.ok(profiles.some((p) => p.key === arch));
    assert.equal((await store.listTimedKernels()).length, summary.kernels.kernels);
  } finally {
    await store.close();
  }

  // the human summary names the kernels too
  const text = await hwlat(['profile', '--space', 'nasbench201', '--arch', arch, '--kernels', '--db', db, ...QUICK]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /stored 1 kernel profiles \(\d+ kernels timed in context; kernels cover \d+% of a profiled run/);
});

test('hwlat profile --kernels without networks is a usage error, and --help shows it with an example', async () => {
  const res = await hwlat(['profile', '--space', 'nasbench201', '--ops', '--kernels', '--db', join(dir, 'none.sqlite')]);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /'--kernels' profiles networks/);
  const help = await hwlat(['profile', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--kernels/);
  assert.match(help.stdout, /\$ hwlat profile --space nasbench201 --networks 20 --kernels/);
});
