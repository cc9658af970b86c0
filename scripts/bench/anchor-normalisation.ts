// Normalisation choices for repeated measurements: 132 NAS-Bench-201 networks measured in two
// passes (different group orders), each group = 11 networks + one fixed "anchor" NAS-Bench-201
// network; how well the two passes agree (within ±10% after removing the median ratio) when each
// measurement is taken raw, divided by its group's calibration figure, by calibration^0.58 (the
// elasticity the predictor learned on this machine), or by the anchor measured in the same rounds.
//
//   npx tsx scripts/bench/anchor-normalisation.ts   (~4 min here)
import { createBackend, networkItems, profileItems } from '../../agent/index.ts';
import { getSpace, sampleArchs } from '../../ops-library/index.ts';
import seedrandom from 'seedrandom';
const space = getSpace('nasbench201');
const archs = sampleArchs(space, { count: 132, seed: 21 });
const anchor = '|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|';
const backend = await createBackend('ort-node', { threads: 1 });
type Rec = { ms: number; cal: number; anchor: number };
const passes: Array<Map<string, Rec>> = [];
for (let pass = 0; pass < 2; pass++) {
  const rng = seedrandom.alea(`order${pass}`);
  const order = [...archs].sort(() => rng() - 0.5);
  const items: string[] = [];
  for (let g = 0; g < order.length; g += 11) items.push(...order.slice(g, g + 11), anchor);
  const res = await profileItems(networkItems(space, items), { backend, deviceId: 'x', passId: `p${pass}`, minTimeMs: 200, groupSize: 12 });
  const m = new Map<string, Rec>();
  for (let g = 0; g < items.length; g += 12) {
    const grp = res.measurements.slice(g, g + 12);
    const a = grp[grp.length - 1]!;
    for (const x of grp.slice(0, -1)) m.set(x.key, { ms: x.stats.median, cal: x.calibrationMs!, anchor: a.stats.median });
  }
  passes.push(m);
}
await backend.dispose();
const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))]!;
for (const [name, f] of [['raw', (r: Rec) => r.ms], ['calibration', (r: Rec) => r.ms / r.cal], ['calibration^0.58', (r: Rec) => r.ms / Math.pow(r.cal, 0.58)], ['anchor', (r: Rec) => r.ms / r.anchor]] as const) {
  const r = [...passes[0]!.keys()].map((k) => f(passes[1]!.get(k)!) / f(passes[0]!.get(k)!));
  const mr = q(r, 0.5);
  const d = r.map((x) => Math.abs(x / mr - 1));
  console.log(name.padEnd(18), 'within ±10%', (100 * d.filter((x) => x <= 0.1).length / d.length).toFixed(1) + '%', '|diff| median', (100 * q(d, 0.5)).toFixed(1) + '%', 'p90', (100 * q(d, 0.9)).toFixed(1) + '%');
}
