// Few-shot latency transfer, leave-one-device-out over the HELP tables in ../shared/data: each
// device in turn is the "new" device, every other device is the reference; K measured
// architectures of the new device, random (several seeds) or proposed by `fewshot plan` (k-means,
// one plan per seed); Spearman ρ and the share within ±10% over all architectures of the space,
// and the share of them inside the method's 90% prediction interval. Baselines: FLOPs only,
// nearest reference device rescaled, ridge over the reference devices' log-latencies; "ceiling":
// that ridge fitted on ALL architectures of the held-out device (what any combination of the
// reference devices can reach at best); "oracle": ridge on the denoised reference columns (as the
// method uses them) plus a per-choice log-cost table, fitted on ALL architectures of the held-out
// device; "oracle-cv": the same fitted on 4/5 of the device's own architectures and scored on the
// other fifth (5 folds): what thousands of the device's own measurements reach, so a noisy column
// shows as a low figure here; "attainment": the method's ρ over the device's oracle-cv ρ;
// "own-cv": the oracle-cv without reference devices (the device's own per-choice log table);
// "tie bound": the best ρ of any tie-free prediction against the column.
//
// The far split: the --far devices whose columns correlate least with the rest of the table (mean
// Spearman ρ with every other device) are held out together; each is predicted from the others
// only (no near twin among the reference), oracle-cv and own-cv recomputed on that reference.
//
//   npx tsx scripts/bench/fewshot.ts [--spaces nasbench201,fbnet] [--ks 5,10,20,50] [--seeds 5]
//                                    [--devices a,b] [--far 5] [--json]
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import seedrandom from 'seedrandom';
import { solveSpd } from '../../predictor/fewshot/linalg.ts';
import { getSpace } from '../../ops-library/index.ts';
import {
  archFlops, denoiseReference, encodeArchs, fewShotPredictPrepared, flopsBaseline, nearestBaseline, parseArchsCsv, parseReferenceCsv, planFewShot,
  physicalFeatures, referenceMatrix, type ArchCodes, type ReferenceLatencies, type ReferenceMatrix, ridgeBaseline, spearman, spearmanTieBound, withinShare, type FewShotInput, type TargetSample,
} from '../../predictor/index.ts';

const { values: args } = parseArgs({
  options: {
    spaces: { type: 'string', default: 'nasbench201,fbnet' },
    ks: { type: 'string', default: '5,10,20,50' },
    seeds: { type: 'string', default: '5' },
    devices: { type: 'string' },
    far: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const DATA = new URL('../../../shared/data/help-latency/', import.meta.url).pathname;
if (!existsSync(DATA)) throw new Error(`HELP data not found at ${DATA}`);
const ks = args.ks.split(',').map(Number);
const seeds = Number(args.seeds);
const farCount = Number(args.far);
const METHODS = ['fewshot', 'fewshot-planned', 'ridge', 'nearest', 'flops'] as const;
const ANCHORS: Record<string, string> = { nasbench201: 'HELP 0.932, BRP-NAS 0.789 (900 samples), FLOPs 0.787', fbnet: 'HELP 0.910' };

/**
 * Least squares (tiny ridge) of the log of `truth` on [1, reference columns, one-hot choices],
 * fitted on the architectures in `fit` (default: every one), predicted for every architecture.
 */
function oracle(codes: ArchCodes, ref: ReferenceMatrix, truth: Float64Array, fit?: readonly number[]): Float64Array {
  const d = ref.cols.length;
  const q = 1 + d + codes.width;
  const g = new Float64Array(q * q);
  const rhs = new Float64Array(q);
  const nz = (i: number) => [[0, 1], ...ref.cols.map((c, a) => [1 + a, c[i] as number]), ...Array.from({ length: codes.p }, (_, j) => [1 + d + (codes.codes[i * codes.p + j] as number), 1])] as Array<[number, number]>;
  for (const i of fit ?? Array.from({ length: codes.n }, (_, x) => x)) {
    const row = nz(i);
    const y = Math.log(truth[i] as number);
    for (const [a, va] of row) {
      rhs[a] = (rhs[a] as number) + va * y;
      for (const [b, vb] of row) g[a * q + b] = (g[a * q + b] as number) + va * vb;
    }
  }
  for (let a = 1; a < q; a++) g[a * q + a] = (g[a * q + a] as number) + 1e-3;
  const w = solveSpd(g, rhs, q);
  return Float64Array.from({ length: codes.n }, (_, i) => Math.exp(nz(i).reduce((s, [a, v]) => s + (w[a] as number) * v, 0)));
}

/**
 * The oracle cross-validated: 5 folds of the held-out device's own architectures, each fifth
 * predicted by the oracle fitted on the other four fifths (4,000 FBNet / 12,500 NAS-Bench-201
 * measurements of the device itself). What this model family reaches with thousands of the
 * device's measurements instead of K: where a column's measurements are noisy it caps any method.
 */
function oracleCv(codes: ArchCodes, ref: ReferenceMatrix, truth: Float64Array): Float64Array {
  const rng = seedrandom.alea('fewshot-bench-oracle-cv');
  const fold = Array.from({ length: codes.n }, () => Math.floor(rng() * 5));
  const out = new Float64Array(codes.n);
  for (let f = 0; f < 5; f++) {
    const p = oracle(codes, ref, truth, fold.flatMap((g, i) => (g === f ? [] : [i])));
    fold.forEach((g, i) => {
      if (g === f) out[i] = p[i] as number;
    });
  }
  return out;
}

/** Share of the measured latencies inside [lo, hi]. */
function coverage(lo: ArrayLike<number>, hi: ArrayLike<number>, truth: ArrayLike<number>): number {
  let hit = 0;
  for (let i = 0; i < truth.length; i++) if ((truth[i] as number) >= (lo[i] as number) && (truth[i] as number) <= (hi[i] as number)) hit++;
  return hit / truth.length;
}

/** The `count` devices whose columns have the lowest mean Spearman ρ with every other device's. */
function farDevices(table: ReferenceLatencies, count: number): Array<{ device: string; meanRho: number }> {
  const devs = table.devices.map((device, a) => {
    const others = table.devices.map((_, b) => b).filter((b) => b !== a);
    const meanRho = others.reduce((s, b) => s + spearman(table.ms[a] as ArrayLike<number>, table.ms[b] as ArrayLike<number>), 0) / others.length;
    return { device, meanRho };
  });
  return devs.sort((x, y) => x.meanRho - y.meanRho).slice(0, count);
}

type Split = 'lodo' | 'far';
type Row = { split: Split; space: string; k: number; device: string; method: string; spearman: number; within10: number; coverage?: number };
const rows: Row[] = [];
const farInfo: Record<string, Array<{ device: string; meanRho: number }>> = {};
const deviceCount: Record<string, number> = {};
const started = Date.now();
for (const spaceName of args.spaces.split(',')) {
  const space = getSpace(spaceName);
  const archRows = parseArchsCsv(readFileSync(`${DATA}${spaceName}/archs.csv`, 'utf8'), 'archs.csv');
  const archs = archRows.map((r) => r.arch);
  const ids = new Map(archRows.map((r, i) => [r.id, i]));
  const table = parseReferenceCsv(readFileSync(`${DATA}${spaceName}/latency.csv`, 'utf8'), 'latency.csv', ids, 'archs.csv');
  const codes = encodeArchs(space, archs);
  const flops = archFlops(space, archs);
  const phys = physicalFeatures(space, codes);
  const far = farCount > 0 ? farDevices(table, farCount) : [];
  farInfo[spaceName] = far;
  deviceCount[spaceName] = table.devices.length;
  const runs: Array<{ split: Split; device: string; excluded: string[] }> = [
    ...(args.devices ? args.devices.split(',') : [...table.devices]).map((device) => ({ split: 'lodo' as const, device, excluded: [device] })),
    ...far.map((f) => ({ split: 'far' as const, device: f.device, excluded: far.map((x) => x.device) })),
  ];
  for (const { split, device, excluded } of runs) {
    const t = table.devices.indexOf(device);
    if (t < 0) throw new RangeError(`unknown device '${device}'`);
    const truth = table.ms[t] as Float64Array;
    const keep = table.devices.map((_, d) => d).filter((d) => !excluded.includes(table.devices[d] as string));
    const reference = { devices: keep.map((d) => table.devices[d] as string), ms: keep.map((d) => table.ms[d] as Float64Array) };
    const ref = referenceMatrix(codes, reference);
    const push = (k: number, method: string, pred: ArrayLike<number>, cov?: number) => rows.push({ split, space: spaceName, k, device, method, spearman: spearman(pred, truth), within10: withinShare(pred, truth), ...(cov === undefined ? {} : { coverage: cov }) });
    if (split === 'lodo') {
      const all: TargetSample[] = Array.from(truth, (ms, index) => ({ index, ms }));
      push(0, 'ceiling', ridgeBaseline({ space, archs, reference, target: all }, 1e-6));
      push(0, 'oracle', oracle(codes, denoiseReference(codes, ref), truth));
      rows.push({ split, space: spaceName, k: 0, device, method: 'tie-bound', spearman: spearmanTieBound(truth), within10: 1 });
    }
    push(0, 'oracle-cv', oracleCv(codes, denoiseReference(codes, ref), truth));
    // the same without any reference device: the device's own per-choice table alone
    push(0, 'own-cv', oracleCv(codes, { devices: [], cols: [], imputed: 0 }, truth));
    for (const k of ks) {
      for (let seed = 0; seed < seeds; seed++) {
        const rng = seedrandom.alea(`fewshot-bench-${spaceName}-${device}-${k}-${seed}`);
        const picked = new Set<number>();
        while (picked.size < k) picked.add(Math.floor(rng() * archs.length));
        const target = [...picked].map((index) => ({ index, ms: truth[index] as number }));
        const input: FewShotInput = { space, archs, reference, target };
        const out = fewShotPredictPrepared(codes, ref, target, phys);
        push(k, 'fewshot', out.ms, coverage(out.lo, out.hi, truth));
        push(k, 'ridge', ridgeBaseline(input));
        push(k, 'nearest', nearestBaseline(input));
        push(k, 'flops', flopsBaseline(input, flops));
        // the K architectures `hwlat fewshot plan` proposes instead of random ones (its pool is seeded)
        const plan = planFewShot({ space, archs, reference, k, seed });
        const planned = fewShotPredictPrepared(codes, ref, plan.map((index) => ({ index, ms: truth[index] as number })), phys);
        push(k, 'fewshot-planned', planned.ms, coverage(planned.lo, planned.hi, truth));
      }
    }
    process.stderr.write(`${spaceName} ${split} ${device} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
}

const mean = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / xs.length;
type Summary = { spearman: number; within10: number; coverage: number };
/** Per device first (mean over seeds), then the mean over devices. */
const summary = (split: Split, space: string, k: number, method: string, device?: string): Summary | null => {
  const sel = rows.filter((r) => r.split === split && r.space === space && r.k === k && r.method === method && (device === undefined || r.device === device));
  if (sel.length === 0) return null;
  const devs = [...new Set(sel.map((r) => r.device))];
  const per = devs.map((d) => {
    const mine = sel.filter((r) => r.device === d);
    return { sp: mean(mine.map((r) => r.spearman)), w: mean(mine.map((r) => r.within10)), c: mean(mine.map((r) => r.coverage ?? Number.NaN)) };
  });
  return { spearman: mean(per.map((p) => p.sp)), within10: mean(per.map((p) => p.w)), coverage: mean(per.map((p) => p.c)) };
};
/** ρ over the device's own oracle-cv ρ (same split, so the same reference). */
const attainment = (split: Split, space: string, k: number, method: string, device: string): number => (summary(split, space, k, method, device)?.spearman ?? Number.NaN) / (summary(split, space, 0, 'oracle-cv', device)?.spearman ?? Number.NaN);
const devicesOf = (split: Split, space: string) => [...new Set(rows.filter((r) => r.split === split && r.space === space).map((r) => r.device))];

if (args.json) {
  process.stdout.write(`${JSON.stringify({ far: farInfo, rows })}\n`);
} else {
  const f = (x: number) => x.toFixed(3);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const cell = (s: Summary | null) => (s ? `${f(s.spearman)} / ${pct(s.within10)}` : '-');
  const k10 = ks.includes(10) ? 10 : (ks[0] as number);
  const curve = (split: Split, space: string): string[] => {
    const out = [`| method | ${ks.map((k) => `K=${k}`).join(' | ')} |`, `|---|${ks.map(() => '---').join('|')}|`];
    for (const m of METHODS) out.push(`| ${m} | ${ks.map((k) => cell(summary(split, space, k, m))).join(' | ')} |`);
    for (const m of ['fewshot', 'fewshot-planned']) out.push(`| ${m}: 90% interval coverage | ${ks.map((k) => { const s = summary(split, space, k, m); return s ? pct(s.coverage) : '-'; }).join(' | ')} |`);
    out.push(`| fewshot: attainment (ρ / oracle-cv ρ) | ${ks.map((k) => f(mean(devicesOf(split, space).map((d) => attainment(split, space, k, 'fewshot', d))))).join(' | ')} |`);
    return out;
  };
  for (const space of args.spaces.split(',')) {
    const lodo = devicesOf('lodo', space);
    const out = [`\n### ${space} — leave-one-device-out, mean over ${lodo.length} devices (Spearman ρ / within ±10%); anchors: ${ANCHORS[space] ?? '-'}`, '', ...curve('lodo', space)];
    for (const [label, m] of [['ceiling (ridge on all archs)', 'ceiling'], ['oracle (denoised reference + per-choice table on all archs)', 'oracle'], ["oracle, 5-fold cross-validated on the device's own archs", 'oracle-cv'], ["the device's own per-choice table, 5-fold cross-validated (no reference)", 'own-cv']] as const) {
      const s = summary('lodo', space, 0, m);
      if (s) out.push(`| ${label} | ${cell(s)} (any K) |`);
    }
    const tb = summary('lodo', space, 0, 'tie-bound');
    if (tb) out.push(`| tie bound (Spearman of the measured order, ties kept) | ${tb.spearman.toFixed(4)} |`);
    const clean = lodo.filter((d) => (summary('lodo', space, 0, 'oracle-cv', d)?.spearman ?? 0) >= 0.99);
    out.push('', `K=${k10}: mean attainment on the ${clean.length} devices with oracle-cv ≥ 0.99 (${clean.join(', ')}): **${f(mean(clean.map((d) => attainment('lodo', space, k10, 'fewshot', d))))}**; on all ${lodo.length}: ${f(mean(lodo.map((d) => attainment('lodo', space, k10, 'fewshot', d))))}.`);
    const methods = METHODS.filter((m) => m !== 'fewshot');
    out.push('', `K=${k10}, per device (Spearman / within ±10%):`, '', `| device | fewshot | attainment | 90% cover | ${methods.join(' | ')} | ceiling | oracle | oracle-cv | own-cv | tie bound |`, `|---|---|---|---|${methods.map(() => '---').join('|')}|---|---|---|---|---|`);
    for (const d of lodo) {
      const fs = summary('lodo', space, k10, 'fewshot', d);
      out.push(`| ${d} | ${cell(fs)} | ${f(attainment('lodo', space, k10, 'fewshot', d))} | ${fs ? pct(fs.coverage) : '-'} | ${methods.map((m) => cell(summary('lodo', space, k10, m, d))).join(' | ')} | ${['ceiling', 'oracle', 'oracle-cv', 'own-cv'].map((m) => cell(summary('lodo', space, 0, m, d))).join(' | ')} | ${summary('lodo', space, 0, 'tie-bound', d)?.spearman.toFixed(4) ?? '-'} |`);
    }
    const far = farInfo[space] ?? [];
    if (far.length > 0) {
      out.push('', `### ${space} — far split: the ${far.length} devices least correlated with the rest (${far.map((x) => x.device).join(', ')}), each predicted from the other ${(deviceCount[space] ?? 0) - far.length}`, '', ...curve('far', space));
      const ocv = summary('far', space, 0, 'oracle-cv');
      if (ocv) out.push(`| oracle-cv on this reference | ${cell(ocv)} (any K) |`);
      out.push('', `K=${k10}, per device (Spearman / within ±10%):`, '', `| device | mean ρ with the rest | fewshot | attainment | 90% cover | ${methods.join(' | ')} | oracle-cv | own-cv |`, `|---|---|---|---|---|${methods.map(() => '---').join('|')}|---|---|`);
      for (const { device: d, meanRho } of far) {
        const fs = summary('far', space, k10, 'fewshot', d);
        out.push(`| ${d} | ${f(meanRho)} | ${cell(fs)} | ${f(attainment('far', space, k10, 'fewshot', d))} | ${fs ? pct(fs.coverage) : '-'} | ${methods.map((m) => cell(summary('far', space, k10, m, d))).join(' | ')} | ${cell(summary('far', space, 0, 'oracle-cv', d))} | ${cell(summary('far', space, 0, 'own-cv', d))} |`);
      }
    }
    process.stdout.write(`${out.join('\n')}\n`);
  }
  process.stdout.write(`\n${rows.length} evaluations in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}
