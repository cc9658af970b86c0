// How well do two measurements of the same networks agree? The noise floor of any accuracy figure.
// (a) The held-out test networks of `hwlat eval` (same-pass ones and up to 100 cross-pass ones)
//     measured again in a new pass, compared with their stored measurement after calibration
//     normalisation (or anchor normalisation, where both carry an anchor figure) and after
//     removing the median ratio between the passes.
// (b) Two sessions of the same network side by side in one interleaved group.
//
//   npx tsx scripts/bench/repeatability.ts --db acc.sqlite [--space nasbench201] [--device ID] [--min-time 200]
import { parseArgs } from 'node:util';
import { createBackend, networkItems, profileItems } from '../../agent/index.ts';
import { openStore, trainingData } from '../../collector/index.ts';
import { trainPredictor } from '../../predictor/index.ts';
import { getSpace, sampleArchs } from '../../ops-library/index.ts';
import { inHoldout } from '../../predictor/split.ts';
import type { Measurement } from '../../protocol/index.ts';

const { values: args } = parseArgs({
  options: { db: { type: 'string' }, space: { type: 'string', default: 'nasbench201' }, device: { type: 'string' }, 'min-time': { type: 'string', default: '200' } },
});
if (!args.db) throw new TypeError("'--db' is required (e.g. scripts/bench/accuracy.ts's database)");
const minTimeMs = Number(args['min-time']);
const space = getSpace(args.space);
const store = openStore({ path: args.db });
const device = args.device ?? (await store.listDevices())[0]?.id;
if (!device) throw new RangeError(`'${args.db}' holds no device`);
const nets = await store.listMeasurements({ deviceId: device, level: 'network', space: space.name });
// the elasticity β the predictor learns from this database (predictor/elasticity.ts)
const beta = (await trainPredictor({ ...(await trainingData(store, device, space.name)), encodingBaseline: false })).data.calibrationElasticity ?? 1;
await store.close();
console.log(`calibration elasticity learned from the stored networks: β = ${beta.toFixed(3)}`);
const archOf = (m: Measurement) => m.key.replace(`network:${space.name}:`, '');
const byPass = new Map<string, Measurement[]>();
for (const m of nets) byPass.set(m.passId, [...(byPass.get(m.passId) ?? []), m]);
const passes = [...byPass.values()].sort((a, b) => b.length - a.length);
const same = (passes[0] ?? []).filter((m) => inHoldout(archOf(m), 0.2, 'eval'));
const cross = (passes[1] ?? []).slice(0, 100);
const backend = await createBackend('ort-node', { threads: 1 });
try {
  const again = await profileItems(networkItems(space, [...same, ...cross].map(archOf)), { backend, deviceId: device, passId: 'repeat', minTimeMs });
  const fresh = new Map(again.measurements.map((m) => [m.key, m]));
  const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))] as number;
  for (const [name, set] of [['same-pass test networks', same], ['cross-pass test networks', cross]] as const) {
    if (set.length === 0) continue;
    for (const [label, e] of [[`calibration^β (β = ${beta.toFixed(3)})`, beta], ['calibration-normalised', 1], ['raw', 0]] as const) {
      const r = set.map((m) => {
        const n = fresh.get(m.key) as Measurement;
        return n.stats.median / Math.pow(n.calibrationMs ?? 1, e) / (m.stats.median / Math.pow(m.calibrationMs ?? 1, e));
      });
      report(`${name} (${set.length}), ${label}`, r);
    }
    // both measurements beside their space's anchor network (agent/anchors.ts): divide by it
    const anchored = set.filter((m) => m.anchorMs && fresh.get(m.key)?.anchorMs);
    if (anchored.length > 0) {
      report(`${name} (${anchored.length}), anchor-normalised`, anchored.map((m) => {
        const n = fresh.get(m.key) as Measurement;
        return n.stats.median / (n.anchorMs as number) / (m.stats.median / (m.anchorMs as number));
      }));
    }
  }
  function report(label: string, r: number[]): void {
    const mr = q(r, 0.5);
    const dev = r.map((x) => Math.abs(x / mr - 1));
    console.log(`${label}: within ±10% of each other ${(100 * dev.filter((d) => d <= 0.1).length / dev.length).toFixed(1)}%, |difference| median ${(100 * q(dev, 0.5)).toFixed(1)}% p90 ${(100 * q(dev, 0.9)).toFixed(1)}% (median ratio ${mr.toFixed(3)})`);
  }
  const archs = sampleArchs(space, { count: 36, seed: 11 });
  const pairs: number[] = [];
  for (let g = 0; g < 3; g++) {
    const a = archs.slice(g * 12, g * 12 + 12);
    const res = await profileItems(networkItems(space, [...a, ...a]), { backend, deviceId: device, passId: 'pairs', minTimeMs, groupSize: 24 });
    for (let i = 0; i < a.length; i++) pairs.push(Math.abs((res.measurements[i + a.length] as Measurement).stats.median / (res.measurements[i] as Measurement).stats.median - 1));
  }
  console.log(`two sessions of one network in one group (${pairs.length} pairs): |difference| median ${(100 * q(pairs, 0.5)).toFixed(1)}% p90 ${(100 * q(pairs, 0.9)).toFixed(1)}% max ${(100 * Math.max(...pairs)).toFixed(1)}%`);
} finally {
  await backend.dispose();
}
