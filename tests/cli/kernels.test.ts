import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { kernelTrainingProfiles, openStore } from '../../collector/index.ts';
import { kernelCampaign, SAMPLE_GRAPH_VERSION } from '../../ops-library/index.ts';
import { hwlat } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-cli-kcampaign-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('hwlat kernels campaign stores profiled configurations, goes on where it stopped, and kernels list reads them back', async () => {
  const db = join(dir, 'k.sqlite');
  const first = await hwlat(['kernels', 'campaign', '--db', db, '--limit', '15', '--runs', '3', '--warmup', '1', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const a = JSON.parse(first.stdout);
  assert.equal(a.profiled, 15);
  assert.equal(a.campaign, kernelCampaign().length);
  assert.equal(Object.keys(a.families).length, 15, 'one configuration of each family');
  assert.equal(a.calibrationMs.length, 1);

  // a second run resumes: the next configurations, not the same ones again
  const second = await hwlat(['kernels', 'campaign', '--db', db, '--limit', '4', '--runs', '3', '--warmup', '1', '--families', 'conv,dwconv', '--json']);
  assert.equal(second.code, 0, second.stderr);
  const b = JSON.parse(second.stdout);
  assert.equal(b.alreadyStored, 2);
  assert.equal(b.profiled, 4);
  assert.deepEqual(b.families, { conv: 2, dwconv: 2 });

  const store = openStore({ path: db });
  let stale: string;
  try {
    const stored = await store.listKernelProfiles({ source: 'sample' });
    const keys = stored.map((p) => p.key);
    assert.equal(keys.length, 19);
    assert.equal(new Set(keys).size, 19);
    assert.ok(stored.every((p) => (p.spec as { graph?: number }).graph === SAMPLE_GRAPH_VERSION), 'each sample says which sample graphs it was profiled on');
    stale = stored.find((p) => p.key.startsWith('conv:'))!.key;
  } finally {
    await store.close();
  }
  // a sample profiled on the sample graphs of before (no version in its spec) ...
  const raw = new Database(db);
  raw.prepare("UPDATE kernel_profiles SET spec = json_remove(spec, '$.graph') WHERE key = ?").run(stale);
  raw.close();
  const reopened = openStore({ path: db });
  try {
    const dev = (await reopened.listKernelProfiles({ source: 'sample' }))[0]!.deviceId;
    // ... is left out of training
    assert.equal((await kernelTrainingProfiles(reopened, dev)).length, 18);
  } finally {
    await reopened.close();
  }
  // ... and profiled again by the next run
  const again = await hwlat(['kernels', 'campaign', '--db', db, '--limit', '1', '--runs', '3', '--warmup', '1', '--families', 'conv', '--json']);
  assert.equal(again.code, 0, again.stderr);
  const c = JSON.parse(again.stdout);
  assert.deepEqual([c.profiled, c.families], [1, { conv: 1 }]);
  const after2 = openStore({ path: db });
  try {
    assert.equal((await after2.listKernelProfiles({ source: 'sample' })).filter((p) => p.key === stale).length, 2, `'${stale}' profiled again`);
  } finally {
    await after2.close();
  }

  const list = await hwlat(['kernels', 'list', '--db', db, '--source', 'sample', '--json']);
  assert.equal(list.code, 0, list.stderr);
  const l = JSON.parse(list.stdout);
  assert.equal(l.profiles, 20, 'the 19 samples and the stale one profiled again');
  const conv = l.ops.find((o: { op: string }) => o.op === 'com.microsoft.nchwc:Conv');
  assert.ok(conv && conv.count >= 4 && conv.medianMs > 0, JSON.stringify(l.ops.map((o: { op: string }) => o.op)));
  const text = await hwlat(['kernels', 'list', '--db', db]);
  assert.match(text.stdout, /timed kernels in .*\n.*op\s+count\s+median ms/);
});

test('hwlat kernels: bad flags are usage errors naming the flag; --help shows examples', async () => {
  const db = join(dir, 'bad.sqlite');
  const fam = await hwlat(['kernels', 'campaign', '--db', db, '--families', 'conv,convs']);
  assert.notEqual(fam.code, 0);
  assert.match(fam.stderr, /'--families': unknown 'convs'; known: conv, pointwise/);
  const min = await hwlat(['kernels', 'campaign', '--db', db, '--minutes', '0']);
  assert.notEqual(min.code, 0);
  assert.match(min.stderr, /'--minutes' must be > 0/);
  const src = await hwlat(['kernels', 'list', '--db', db, '--source', 'nets']);
  assert.notEqual(src.code, 0);
  assert.match(src.stderr, /'--source' must be 'network' or 'sample'/);
  const help = await hwlat(['kernels', 'campaign', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /\$ hwlat kernels campaign --db lat.sqlite --minutes 10/);
});
