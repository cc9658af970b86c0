// Few-shot latency transfer, leave-one-device-out over the HELP tables in ../shared/data: each
// device in turn is the "new" device, every other device is the reference; K random measured
// architectures of the new device (several seeds); Spearman ρ and the share within ±10% over all
// architectures of the space. Baselines: FLOPs only, nearest reference device rescaled, ridge over
// the reference devices' log-latencies; "ceiling": that ridge fitted on ALL architectures of the
// held-out device (what any combination of the reference devices can reach at best);
// "oracle": ridge on the denoised reference columns (as the method uses them) plus a per-choice
// log-cost table, fitted on ALL architectures of the held-out device (no few-shot method of this
// family can do better); "oracle-cv": the same fitted on 4/5 of the device's own architectures and
// scored on the other fifth (5 folds): what thousands of the device's own measurements reach, so
// a noisy column shows as a low figure here; "own-cv": the same without reference devices (the
// device's own per-choice log table); "tie bound": the best ρ of any tie-free prediction
// against the column.
//
//   npx tsx scripts/bench/fewshot.ts [--spaces nasbench201,fbnet] [--ks 5,10,20] [--seeds 5]
//                                    [--devices a,b] [--planned] [--json]
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import seedrandom from 'seedrandom';
import { solveSpd } from '../../predictor/fewshot/linalg.ts';
import { getSpace } from '../../ops-library/index.ts';
import {
  archFlops, denoiseReference, encodeArchs, fewShotPredictPrepared, flopsBaseline, nearestBaseline, parseArchsCsv, parseReferenceCsv, planFewShot,
  physicalFeatures, referenceMatrix, type ArchCodes, type ReferenceMatrix, ridgeBaseline, spearman, spearmanTieBound, withinShare, type FewShotInput, type TargetSample,
} from '../../predictor/index.ts';

const { values: args } = parseArgs({
  options: {
    spaces: { type: 'string', default: 'nasbench201,fbnet' },
    ks: { type: 'string', default: '5,10,20' },
    seeds: { type: 'string', default: '5' },
    devices: { type: 'string' },
    planned: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const DATA = new URL('../../../shared/data/help-latency/', import.meta.url).pathname;
if (!existsSync(DATA)) throw new Error(`HELP data not found at ${DATA}`);
const ks = args.ks.split(',').map(Number);
const seeds = Number(args.seeds);
const METHODS = ['fewshot', 'ridge', 'nearest', 'flops'] as const;
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

type Row = { space: string; k: number; device: string; method: string; spearman: number; within10: number };
const rows: Row[] = [];
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
  const targets = args.devices ? args.devices.split(',') : [...table.devices];
  for (const device of targets) {
    const t = table.devices.indexOf(device);
    if (t < 0) throw new RangeError(`unknown device '${device}'`);
    const truth = table.ms[t] as Float64Array;
    const reference = { devices: table.devices.filter((_, d) => d !== t), ms: table.ms.filter((_, d) => d !== t) };
    const ref = referenceMatrix(codes, reference);
    const all: TargetSample[] = Array.from(truth, (ms, index) => ({ index, ms }));
    const ceiling = ridgeBaseline({ space, archs, reference, target: all }, 1e-6);
    rows.push({ space: spaceName, k: 0, device, method: 'ceiling', spearman: spearman(ceiling, truth), within10: withinShare(ceiling, truth) });
    const best = oracle(codes, denoiseReference(codes, ref), truth);
    rows.push({ space: spaceName, k: 0, device, method: 'oracle', spearman: spearman(best, truth), within10: withinShare(best, truth) });
    const cv = oracleCv(codes, denoiseReference(codes, ref), truth);
    rows.push({ space: spaceName, k: 0, device, method: 'oracle-cv', spearman: spearman(cv, truth), within10: withinShare(cv, truth) });
    // the same without any reference device: the device's own per-choice table alone
    const own = oracleCv(codes, { devices: [], cols: [], imputed: 0 }, truth);
    rows.push({ space: spaceName, k: 0, device, method: 'own-cv', spearman: spearman(own, truth), within10: withinShare(own, truth) });
    // the best ρ any tie-free prediction can reach against this (possibly whole-ms) column
    rows.push({ space: spaceName, k: 0, device, method: 'tie-bound', spearman: spearmanTieBound(truth), within10: 1 });
    for (const k of ks) {
      for (let seed = 0; seed < seeds; seed++) {
        const rng = seedrandom.alea(`fewshot-bench-${spaceName}-${device}-${k}-${seed}`);
        const picked = new Set<number>();
        while (picked.size < k) picked.add(Math.floor(rng() * archs.length));
        const target = [...picked].map((index) => ({ index, ms: truth[index] as number }));
        const input: FewShotInput = { space, archs, reference, target };
        const preds: Record<string, ArrayLike<number>> = {
          fewshot: fewShotPredictPrepared(codes, ref, target, phys).ms,
          ridge: ridgeBaseline(input),
          nearest: nearestBaseline(input),
          flops: flopsBaseline(input, flops),
        };
        for (const m of METHODS) rows.push({ space: spaceName, k, device, method: m, spearman: spearman(preds[m]!, truth), within10: withinShare(preds[m]!, truth) });
      }
      if (args.planned) {
        // planned picks instead of random ones, one plan per seed (the plan's pool is seeded)
        for (const method of ['kmeans', 'leverage'] as const) {
          for (let seed = 0; seed < seeds; seed++) {
            const plan = planFewShot({ space, archs, reference, k, seed, method });
            const target = plan.map((index) => ({ index, ms: truth[index] as number }));
            const p = fewShotPredictPrepared(codes, ref, target, phys).ms;
            rows.push({ space: spaceName, k, device, method: `fewshot-planned-${method}`, spearman: spearman(p, truth), within10: withinShare(p, truth) });
          }
        }
      }
    }
    process.stderr.write(`${spaceName} ${device} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
}

const mean = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / xs.length;
const summary = (space: string, k: number, method: string, device?: string) => {
  const sel = rows.filter((r) => r.space === space && r.k === k && r.method === method && (device === undefined || r.device === device));
  if (sel.length === 0) return null;
  // per device first (mean over seeds), then the mean over devices
  const devs = [...new Set(sel.map((r) => r.device))];
  const per = devs.map((d) => ({ sp: mean(sel.filter((r) => r.device === d).map((r) => r.spearman)), w: mean(sel.filter((r) => r.device === d).map((r) => r.within10)) }));
  return { spearman: mean(per.map((p) => p.sp)), within10: mean(per.map((p) => p.w)) };
};
if (args.json) {
  process.stdout.write(`${JSON.stringify(rows)}\n`);
} else {
  const f = (x: number) => x.toFixed(3);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const methods = [...METHODS, ...(args.planned ? ['fewshot-planned-kmeans', 'fewshot-planned-leverage'] : [])];
  for (const space of args.spaces.split(',')) {
    const out = [`\n### ${space} — mean over devices (Spearman ρ / within ±10%); anchors: ${ANCHORS[space] ?? '-'}`, '', `| method | ${ks.map((k) => `K=${k}`).join(' | ')} |`, `|---|${ks.map(() => '---').join('|')}|`];
    for (const m of methods) out.push(`| ${m} | ${ks.map((k) => { const s = summary(space, k, m); return s ? `${f(s.spearman)} / ${pct(s.within10)}` : '-'; }).join(' | ')} |`);
    const c = summary(space, 0, 'ceiling');
    if (c) out.push(`| ceiling (ridge on all archs) | ${f(c.spearman)} / ${pct(c.within10)} (any K) |`);
    const o = summary(space, 0, 'oracle');
    if (o) out.push(`| oracle (denoised reference + per-choice table on all archs) | ${f(o.spearman)} / ${pct(o.within10)} (any K) |`);
    const ocv = summary(space, 0, 'oracle-cv');
    if (ocv) out.push(`| oracle, 5-fold cross-validated on the device's own archs | ${f(ocv.spearman)} / ${pct(ocv.within10)} (any K) |`);
    const own = summary(space, 0, 'own-cv');
    if (own) out.push(`| the device's own per-choice table, 5-fold cross-validated (no reference) | ${f(own.spearman)} / ${pct(own.within10)} (any K) |`);
    const tb = summary(space, 0, 'tie-bound');
    if (tb) out.push(`| tie bound (Spearman of the measured order, ties kept) | ${tb.spearman.toFixed(4)} |`);
    const k10 = ks.includes(10) ? 10 : ks[0]!;
    out.push('', `K=${k10}, per device (Spearman / within ±10%):`, '', `| device | ${methods.join(' | ')} | ceiling | oracle | oracle-cv | own-cv | tie bound |`, `|---|${methods.map(() => '---').join('|')}|---|---|---|---|---|`);
    for (const d of [...new Set(rows.filter((r) => r.space === space).map((r) => r.device))]) {
      out.push(`| ${d} | ${methods.map((m) => { const s = summary(space, k10, m, d); return s ? `${f(s.spearman)} / ${pct(s.within10)}` : '-'; }).join(' | ')} | ${(() => { const s = summary(space, 0, 'ceiling', d)!; return `${f(s.spearman)} / ${pct(s.within10)}`; })()} | ${(() => { const s = summary(space, 0, 'oracle', d)!; return `${f(s.spearman)} / ${pct(s.within10)}`; })()} | ${(() => { const s = summary(space, 0, 'oracle-cv', d)!; return `${f(s.spearman)} / ${pct(s.within10)}`; })()} | ${(() => { const s = summary(space, 0, 'own-cv', d)!; return `${f(s.spearman)} / ${pct(s.within10)}`; })()} | ${summary(space, 0, 'tie-bound', d)!.spearman.toFixed(4)} |`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  }
  process.stdout.write(`\n${rows.length} evaluations in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}
