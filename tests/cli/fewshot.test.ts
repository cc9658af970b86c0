import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { fleetFewShotData, fleetFewShotPlan, openStore, planTasks, startCollector, type SqliteStore } from '../../collector/index.ts';
import { CampaignRequestSchema } from '../../protocol/index.ts';
import type { DeviceProfile, Measurement } from '../../protocol/index.ts';
import { spearman } from '../../predictor/index.ts';
import { hwlat } from '../helpers/cli.ts';
import { readHelpTable, type HelpTable } from '../helpers/help-table.ts';

const table = readHelpTable('nasbench201');
const SKIP = '../shared/data/help-latency is absent';
const REFS = ['1080ti_1', '2080ti_32', 'gold_6240', 'samsung_a50', 'silver_4210r', 'titanx_256'];
const NEW = 'titanxp_32';
const N = 3000;

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-fewshot-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** archs.csv, latency.csv (6 reference devices, some cells empty) and target.csv (K random rows of NEW). */
function writeContract(dir: string, t: HelpTable, k = 10): { truth: Map<string, number> } {
  const col = (d: string) => t.ms[t.devices.indexOf(d)] as Float64Array;
  writeFileSync(join(dir, 'archs.csv'), `arch_id,arch\n${t.archs.slice(0, N).map((a, i) => `${t.ids[i]},${a}`).join('\n')}\n`);
  // a reference device need not have measured every architecture: every 7th of one is missing
  const ref = t.ids.slice(0, N).map((id, i) => [id, ...REFS.map((d, j) => (j === 3 && i % 7 === 0 ? '' : String(col(d)[i])))].join(','));
  writeFileSync(join(dir, 'latency.csv'), `arch_id,${REFS.join(',')}\n${ref.join('\n')}\n`);
  const rng = seedrandom.alea('fewshot-cli');
  const rows = new Set<number>();
  while (rows.size < k) rows.add(Math.floor(rng() * N));
  writeFileSync(join(dir, 'target.csv'), `arch_id,latency_ms\n${[...rows].map((i) => `${t.ids[i]},${col(NEW)[i]}`).join('\n')}\n`);
  return { truth: new Map(t.ids.slice(0, N).map((id, i) => [id, col(NEW)[i] as number])) };
}

/** Predictions by arch_id, each checked to lie inside its own 90% interval (lo_ms ≤ latency_ms ≤ hi_ms). */
function readPreds(file: string, intervals?: Map<string, [number, number]>): Map<string, number> {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'arch_id,latency_ms,lo_ms,hi_ms');
  return new Map(
    lines.slice(1).map((l) => {
      const [id, ms, lo, hi] = l.split(',') as [string, string, string, string];
      assert.ok(Number(lo) <= Number(ms) && Number(ms) <= Number(hi), `interval of ${id}: ${lo} ≤ ${ms} ≤ ${hi}`);
      intervals?.set(id, [Number(lo), Number(hi)]);
      return [id, Number(ms)];
    }),
  );
}

test('hwlat fewshot: predictions for every arch of archs.csv from 10 measurements of a held-out device', async (t) => {
  if (!table) return t.skip(SKIP);
  await withDir(async (dir) => {
    const { truth } = writeContract(dir, table);
    const f = (n: string) => join(dir, n);
    const r = await hwlat(['fewshot', '--space', 'nasbench201', '--archs', f('archs.csv'), '--reference', f('latency.csv'), '--target', f('target.csv'), '--out', f('preds.csv'), '--seed', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.archs, N);
    assert.equal(out.measured, 10);
    assert.deepEqual([...out.references].sort(), [...REFS].sort());
    assert.equal(out.imputed, Math.ceil(N / 7));
    assert.equal(out.interval, 0.9);
    assert.ok(out.logSigma > 0 && out.basisWeight >= 0 && out.basisWeight <= 1, JSON.stringify(out));
    const intervals = new Map<string, [number, number]>();
    const preds = readPreds(f('preds.csv'), intervals);
    assert.deepEqual([...preds.keys()], [...truth.keys()]);
    const ids = [...truth.keys()];
    const rho = spearman(ids.map((id) => preds.get(id) as number), ids.map((id) => truth.get(id) as number));
    assert.ok(rho > 0.9, `Spearman ${rho}`);
    // the 90% intervals hold most of the held-out device's real latencies (one seed: loosely)
    const covered = ids.filter((id) => { const [lo, hi] = intervals.get(id) as [number, number]; const v = truth.get(id) as number; return v >= lo && v <= hi; }).length / ids.length;
    assert.ok(covered > 0.6, `interval coverage ${covered}`);
  });
});

test('hwlat fewshot plan: K architectures to measure, usable as the target', async (t) => {
  if (!table) return t.skip(SKIP);
  await withDir(async (dir) => {
    const { truth } = writeContract(dir, table);
    const f = (n: string) => join(dir, n);
    const r = await hwlat(['fewshot', 'plan', '--space', 'nasbench201', '--archs', f('archs.csv'), '--reference', f('latency.csv'), '--k', '10', '--out', f('plan.csv')]);
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(f('plan.csv'), 'utf8').trim().split('\n');
    assert.equal(lines[0], 'arch_id,arch');
    const ids = lines.slice(1).map((l) => l.split(',')[0] as string);
    assert.equal(new Set(ids).size, 10);
    for (const [i, l] of lines.slice(1).entries()) assert.equal(l.split(',')[1], table.archs[table.ids.indexOf(ids[i] as string)]);
    // the device measures the plan: predict from those
    writeFileSync(f('target.csv'), `arch_id,latency_ms\n${ids.map((id) => `${id},${truth.get(id)}`).join('\n')}\n`);
    const p = await hwlat(['fewshot', '--space', 'nasbench201', '--archs', f('archs.csv'), '--reference', f('latency.csv'), '--target', f('target.csv'), '--out', f('preds.csv')]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /predicted 3000 architectures/);
    const preds = readPreds(f('preds.csv'));
    const all = [...truth.keys()];
    assert.ok(spearman(all.map((id) => preds.get(id) as number), all.map((id) => truth.get(id) as number)) > 0.9);
  });
});

test('hwlat fewshot: bad input names the file, line and column; exit 1', async () => {
  await withDir(async (dir) => {
    const f = (n: string) => join(dir, n);
    const a = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
    const b = '|avg_pool_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|';
    writeFileSync(f('archs.csv'), `arch_id,arch\n1,${a}\n2,${b}\n`);
    writeFileSync(f('ref.csv'), 'arch_id,gpu,cpu\n1,3.5,9\n2,2.5,7\n');
    writeFileSync(f('t.csv'), 'arch_id,latency_ms\n1,4\n2,3\n');
    const run = (archs: string, ref: string, target: string) =>
      hwlat(['fewshot', '--space', 'nasbench201', '--archs', f(archs), '--reference', f(ref), '--target', f(target), '--out', f('p.csv')]);
    const ok = await run('archs.csv', 'ref.csv', 't.csv');
    assert.equal(ok.code, 0, ok.stderr);
    writeFileSync(f('t-ids.csv'), 'arch_id,latency_ms\n1,4\n9,3\n');
    writeFileSync(f('archs-bad.csv'), `arch_id,arch\n1,${a}\n2,|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|\n`);
    writeFileSync(f('t-one.csv'), 'arch_id,latency_ms\n1,4\n');
    writeFileSync(f('ref-nan.csv'), 'arch_id,gpu,cpu\n1,3.5,9\n2,2.5,slow\n');
    const cases: Array<[string, string, string, RegExp]> = [
      ['archs.csv', 'ref.csv', 't-ids.csv', /t-ids\.csv' line 3: arch_id '9' is not in '.*archs\.csv'/],
      ['archs-bad.csv', 'ref.csv', 't.csv', /invalid nasbench201 architecture .*archs-bad\.csv' line 3 \(arch_id '2'\).*'conv_7x7'/],
      ['archs.csv', 'ref.csv', 't-one.csv', /t-one\.csv' holds 1 measurement\(s\) of the new device; few-shot transfer needs at least 2/],
      ['archs.csv', 'ref-nan.csv', 't.csv', /ref-nan\.csv' line 3, column 'cpu': 'slow' is not a number/],
    ];
    const results = await Promise.all(cases.map(([x, y, z]) => run(x, y, z)));
    results.forEach((r, i) => {
      assert.equal(r.code, 1, `case ${i}: ${r.stderr}`);
      assert.match(r.stderr, /^hwlat: error: /);
      assert.match(r.stderr, (cases[i] as [string, string, string, RegExp])[3]);
    });
  });
});

const dev = (n: number): DeviceProfile => ({
  id: `dev-00000000000${n}`,
  name: `fleet-${n}`,
  hardware: { cpu: 'test', cores: 2, physicalCores: 2, memoryBytes: 1e9, os: 'linux', arch: 'x64', gpus: [], host: `h${n}` },
  runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
});

function network(deviceId: string, arch: string, ms: number, n: number, extra: Partial<Measurement> = {}): Measurement {
  return {
    id: `r-${deviceId}-${n}`, deviceId, passId: `pass-${deviceId}`, level: 'network', space: 'nasbench201', key: arch, batch: 1, warmup: 1,
    stats: { median: ms, mean: ms, p10: ms, p90: ms, stddev: 0, min: ms, cv: 0, repeats: 5, outliers: 0 },
    wallMs: 10, calibrationMs: null, createdAt: '2026-01-01T00:00:00.000Z', ...extra,
  };
}

async function seedFleet(store: SqliteStore, t: HelpTable, devices: Array<[number, string, number]>): Promise<void> {
  for (const [n, column, count] of devices) {
    const d = dev(n);
    await store.upsertDevice(d);
    await store.startPass({ id: `pass-${d.id}`, deviceId: d.id, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: null, calibrationKey: 'cal', calibrationMs: null, calibrationTrace: [] });
    const col = t.ms[t.devices.indexOf(column)] as Float64Array;
    if (count > 0) (await store.insertMeasurements(Array.from({ length: count }, (_, i) => network(d.id, t.archs[i * 3] as string, col[i * 3] as number, i))));
  }
}

test('in the fleet: a few-shot campaign measures the plan, then hwlat fewshot --db --device predicts the rest', async (t) => {
  if (!table) return t.skip(SKIP);
  await withDir(async (dir) => {
    const db = join(dir, 'fleet.sqlite');
    const store = openStore({ path: db });
    const newDev = dev(4).id;
    try {
      // three reference devices with 400 networks each; the new device with none yet; one with a single network
      await seedFleet(store, table, [[1, '1080ti_1', 400], [2, 'gold_6240', 400], [3, 'samsung_a50', 400], [4, NEW, 0], [5, 'pixel3', 1]]);
      const collector = await startCollector({ store, token: 'tok-secret-0123456789', port: 0, host: '127.0.0.1' });
      try {
        const created = await hwlat(['campaign', 'create', '--collector', collector.url, '--token', 'tok-secret-0123456789', '--space', 'nasbench201', '--fewshot', '10', '--devices', newDev, '--json']);
        assert.equal(created.code, 0, created.stderr);
        const campaign = JSON.parse(created.stdout) as { id: string; tasks: number; request: { fewshot: number } };
        assert.equal(campaign.tasks, 10);
        assert.equal(campaign.request.fewshot, 10);
        const jobs = (await store.listJobs({ campaignId: campaign.id }));
        assert.deepEqual(jobs.map((j) => j.task.key).sort(), (await fleetFewShotPlan(store, 'nasbench201', 10, 0)).sort());
        // the new device's agent measures them (its latencies from the held-out HELP column)
        const grant = (await store.leaseJobs({ deviceId: newDev, agentId: 'agent-4', max: 10, ttlMs: 60_000, now: Date.now() }));
        const col = table.ms[table.devices.indexOf(NEW)] as Float64Array;
        for (const [i, j] of grant.jobs.entries()) {
          const ms = col[table.archs.indexOf(j.task.key)] as number;
          assert.equal(await store.completeJob({ jobId: j.id, deviceId: newDev, measurement: network(newDev, j.task.key, ms, 1000 + i, { jobId: j.id }) }), 'stored');
        }
        assert.equal((await store.campaignProgress(campaign.id))[0]?.done, 10);
      } finally {
        await collector.close();
      }
      await assert.rejects(async () => (await fleetFewShotData(store, dev(5).id)), /has 1 measured network\(s\) of 'nasbench201'; few-shot transfer needs at least 2/);
    } finally {
      await store.close();
    }
    const out = join(dir, 'preds.csv');
    const r = await hwlat(['fewshot', '--db', db, '--device', newDev, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.space, 'nasbench201');
    assert.equal(summary.measured, 10);
    assert.deepEqual([...summary.references].sort(), [dev(1).id, dev(2).id, dev(3).id]);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'arch_id,latency_ms,lo_ms,hi_ms,measured_ms,arch');
    assert.equal(summary.interval, 0.9);
    const rows = lines.slice(1).map((l) => l.split(','));
    assert.ok(rows.length >= 400);
    for (const c of rows) assert.ok(Number(c[2]) <= Number(c[1]) && Number(c[1]) <= Number(c[3]), c.join(','));
    const col = table.ms[table.devices.indexOf(NEW)] as Float64Array;
    const truth = rows.map((c) => col[table.archs.indexOf(c[5] as string)] as number);
    const rho = spearman(rows.map((c) => Number(c[1])), truth);
    assert.ok(rho > 0.9, `Spearman ${rho}`);
    assert.equal(rows.filter((c) => c[4] !== '').length, 10);
  });
});

test('planTasks: a few-shot campaign adds the plan\'s networks once, and needs a planner', async () => {
  const request = CampaignRequestSchema.parse({ space: 'fbnet', networks: 2, seed: 1, fewshot: 3 });
  const sampled = planTasks({ ...request, fewshot: undefined });
  const tasks = planTasks(request, (space, k, seed) => {
    assert.deepEqual([space, k, seed], ['fbnet', 3, 1]);
    // one of the plan's picks is already a sampled network: it must not be queued twice
    return [sampled[0]!.key, 'k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1', 'skip-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1-k3_e1'];
  });
  assert.equal(tasks.length, 4);
  assert.equal(new Set(tasks.map((t) => t.key)).size, 4);
  assert.throws(() => planTasks(request), /'fewshot' campaigns need the fleet's measurements to plan from/);
  assert.throws(() => CampaignRequestSchema.parse({ space: 'fbnet' }), /'fewshot' >= 1/);
});
