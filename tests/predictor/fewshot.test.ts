import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { ArchParseError, getSpace, sampleArchs } from '../../ops-library/index.ts';
import {
  choiceTableBasis, denoiseReference, deviceEmbedding, embeddingModel, encodeArchs, fewShotPredict, fitAdditiveLog, parseArchsCsv, physicalFeatures, parseReferenceCsv, parseTargetCsv, planFewShot, referenceMatrix, ridgeBaseline,
  spearman, spearmanTieBound, withinShare,
} from '../../predictor/index.ts';
import { readHelpTable } from '../helpers/help-table.ts';

const NB = getSpace('nasbench201');
const FB = getSpace('fbnet');

/** A synthetic device: log-additive per-choice costs drawn from `seed`, times a scale. */
function syntheticDevice(archs: string[], space = NB, seed = 1, scale = 1): Float64Array {
  const rng = seedrandom.alea(`syn-${seed}`);
  const cost = space.positions.map((p) => p.choices.map(() => 0.3 * rng()));
  return Float64Array.from(archs, (a) => scale * Math.exp(1 + space.parse(a).reduce((s, c, j) => s + (cost[j] as number[])[space.positions[j]!.choices.findIndex((x) => x.name === c)]!, 0)));
}

test('spearman uses average ranks for ties; withinShare counts ±10%', () => {
  assert.equal(spearman([1, 2, 3], [10, 30, 20]), 0.5);
  assert.ok(Math.abs(spearman([1, 1, 2, 3], [5, 5, 6, 7]) - 1) < 1e-12);
  assert.equal(withinShare([1, 1.2, 0.95], [1, 1, 1]), 2 / 3);
});

test('a new device that is a scaled copy of a reference is recovered from 5 samples', () => {
  const archs = sampleArchs(NB, { count: 400, seed: 4 });
  const a = syntheticDevice(archs, NB, 1);
  const b = syntheticDevice(archs, NB, 2);
  const truth = a.map((v) => 3.7 * v);
  const target = [0, 50, 100, 150, 200].map((index) => ({ index, ms: truth[index] as number }));
  const out = fewShotPredict({ space: NB, archs, reference: { devices: ['a', 'b'], ms: [a, b] }, target });
  assert.equal(out.ms.length, archs.length);
  assert.ok(withinShare(out.ms, truth, 0.01) > 0.99, `within 1%: ${withinShare(out.ms, truth, 0.01)}`);
  assert.equal(out.weights[0]?.device, 'a');
  assert.deepEqual(out.devicesUsed, ['a', 'b']);
});

test('missing reference values are filled in by the per-device cost table', () => {
  // 600 measured architectures per 177 free per-choice costs: enough to pin the table
  const archs = sampleArchs(FB, { count: 900, seed: 5 });
  const a = syntheticDevice(archs, FB, 3);
  const holey = a.map((v, i) => (i % 3 === 0 ? Number.NaN : v));
  const truth = a.map((v) => 2 * v);
  const target = [1, 2, 4, 5, 7, 8].map((index) => ({ index, ms: truth[index] as number }));
  const out = fewShotPredict({ space: FB, archs, reference: { devices: ['a'], ms: [holey] }, target });
  assert.equal(out.imputed, 300);
  // the imputed third is an exact log-additive device here, so the fill-in must be close too
  const imputedIdx = archs.map((_, i) => i).filter((i) => i % 3 === 0);
  assert.ok(withinShare(imputedIdx.map((i) => out.ms[i] as number), imputedIdx.map((i) => truth[i] as number), 0.02) > 0.95);
});

test('without reference devices the per-choice correction alone still ranks an additive device', () => {
  const archs = sampleArchs(NB, { count: 500, seed: 6 });
  const truth = syntheticDevice(archs, NB, 9);
  const target = Array.from({ length: 20 }, (_, r) => ({ index: r * 7, ms: truth[r * 7] as number }));
  const out = fewShotPredict({ space: NB, archs, reference: { devices: [], ms: [] }, target });
  assert.ok(spearman(out.ms, truth) > 0.5, `spearman ${spearman(out.ms, truth)}`);
});

test('a device unlike every reference but linear in FLOPs, memory and kernels (an analytic accelerator) is found from 10 samples', () => {
  const archs = sampleArchs(FB, { count: 2000, seed: 12 });
  const [flops, mem, kernels] = physicalFeatures(FB, encodeArchs(FB, archs)) as [Float64Array, Float64Array, Float64Array];
  const truth = flops.map((f, i) => 2 + 3 * f + 0.5 * (mem[i] as number) + 0.2 * (kernels[i] as number));
  // references that rank architectures their own (log-additive) way
  const reference = { devices: ['a', 'b', 'c'], ms: [syntheticDevice(archs, FB, 1), syntheticDevice(archs, FB, 2), syntheticDevice(archs, FB, 3)] };
  const target = Array.from({ length: 10 }, (_, r) => ({ index: r * 97, ms: truth[r * 97] as number }));
  const out = fewShotPredict({ space: FB, archs, reference, target });
  // the linear-space models carry it: physical features alone, or beside the reference tables (device basis)
  assert.ok(out.physicalWeight + out.basisWeight > 0.9, `physical weight ${out.physicalWeight}, basis weight ${out.basisWeight}`);
  assert.ok(spearman(out.ms, truth) > 0.98, `spearman ${spearman(out.ms, truth)}`);
  assert.ok(withinShare(out.ms, truth) > 0.98);
});

test('bad input: too few samples, bad indices and latencies, unknown arch strings', () => {
  const archs = sampleArchs(NB, { count: 10, seed: 1 });
  const reference = { devices: ['a'], ms: [syntheticDevice(archs)] };
  assert.throws(() => fewShotPredict({ space: NB, archs, reference, target: [{ index: 0, ms: 1 }] }), /at least 2 measurements of the new device, got 1/);
  assert.throws(() => fewShotPredict({ space: NB, archs, reference, target: [{ index: 0, ms: 1 }, { index: 10, ms: 1 }] }), /'target\[1\]\.index' must be an architecture index in 0\.\.9, got 10/);
  assert.throws(() => fewShotPredict({ space: NB, archs, reference, target: [{ index: 0, ms: 1 }, { index: 1, ms: -2 }] }), /'target\[1\]\.ms' must be a positive number/);
  assert.throws(() => fewShotPredict({ space: NB, archs: [...archs.slice(1), 'k3_e1-skip'], reference, target: [{ index: 0, ms: 1 }, { index: 1, ms: 2 }] }), ArchParseError);
});

test('CSV parsers name the file, line and column of bad input', () => {
  const archs = parseArchsCsv('arch_id,arch\na,x\nb,y\n', 'archs.csv');
  const ids = new Map(archs.map((r, i) => [r.id, i]));
  assert.throws(() => parseArchsCsv('id,arch\n', 'archs.csv'), /'archs\.csv' line 1: the header must be 'arch_id,arch'/);
  assert.throws(() => parseArchsCsv('arch_id,arch\na,x\na,y\n', 'archs.csv'), /'archs\.csv' line 3: arch_id 'a' appears twice/);
  assert.throws(() => parseReferenceCsv('arch_id,gpu\na,1\nc,2\n', 'lat.csv', ids, 'archs.csv'), /'lat\.csv' line 3: arch_id 'c' is not in 'archs\.csv'/);
  assert.throws(() => parseReferenceCsv('arch_id,gpu,cpu\na,1,fast\n', 'lat.csv', ids, 'archs.csv'), /'lat\.csv' line 2, column 'cpu': 'fast' is not a number/);
  assert.throws(() => parseReferenceCsv('arch_id,gpu\na,0\n', 'lat.csv', ids, 'archs.csv'), /column 'gpu': a latency must be > 0 ms/);
  const ref = parseReferenceCsv('arch_id,gpu,cpu\nb,2,\na,1,3\n', 'lat.csv', ids, 'archs.csv');
  assert.deepEqual([...(ref.ms[0] as Float64Array)], [1, 2]);
  assert.ok(Number.isNaN((ref.ms[1] as Float64Array)[1] as number));
  assert.throws(() => parseTargetCsv('arch_id,latency_ms\na,1\n', 't.csv', ids, 'archs.csv'), /'t\.csv' holds 1 measurement\(s\) of the new device; few-shot transfer needs at least 2/);
  assert.throws(() => parseTargetCsv('arch_id,latency_ms\na,1\nb,abc\n', 't.csv', ids, 'archs.csv'), /'t\.csv' line 3, column 'latency_ms': 'abc' is not a number/);
  assert.deepEqual(parseTargetCsv('arch_id,latency_ms\nb,2\na,1\n', 't.csv', ids, 'archs.csv'), [{ index: 1, ms: 2 }, { index: 0, ms: 1 }]);
});

test('plan: K distinct indices, deterministic per seed, K above the table refused', () => {
  const archs = sampleArchs(FB, { count: 200, seed: 8 });
  const reference = { devices: ['a', 'b', 'c'], ms: [syntheticDevice(archs, FB, 1), syntheticDevice(archs, FB, 2), syntheticDevice(archs, FB, 3)] };
  const p = planFewShot({ space: FB, archs, reference, k: 10 });
  assert.equal(new Set(p).size, 10);
  assert.deepEqual(planFewShot({ space: FB, archs, reference, k: 10 }), p);
  assert.equal(new Set(planFewShot({ space: FB, archs, reference: { devices: [], ms: [] }, k: 10 })).size, 10);
  assert.throws(() => planFewShot({ space: FB, archs, reference, k: 201 }), /'k' \(201\) exceeds the number of architectures \(200\)/);
});

test('held-out real NB201 device (titanxp_1) from 10 random samples: Spearman > 0.95 and beats the ridge baseline on ±10%', (t) => {
  const table = readHelpTable('nasbench201');
  if (!table) return t.skip('../shared/data/help-latency is absent');
  const held = table.devices.indexOf('titanxp_1');
  const truth = table.ms[held] as Float64Array;
  const reference = { devices: table.devices.filter((_, d) => d !== held), ms: table.ms.filter((_, d) => d !== held) };
  const rng = seedrandom.alea('fewshot-test');
  const picked = new Set<number>();
  while (picked.size < 10) picked.add(Math.floor(rng() * truth.length));
  const target = [...picked].map((index) => ({ index, ms: truth[index] as number }));
  const out = fewShotPredict({ space: NB, archs: table.archs, reference, target });
  const rho = spearman(out.ms, truth);
  const w = withinShare(out.ms, truth);
  const ridge = ridgeBaseline({ space: NB, archs: table.archs, reference, target });
  assert.ok(rho > 0.95, `Spearman ${rho.toFixed(3)}`);
  assert.ok(w > 0.85 && w >= withinShare(ridge, truth), `within ±10% ${w.toFixed(3)} vs ridge ${withinShare(ridge, truth).toFixed(3)}`);
});

test('spearmanTieBound: 1 without ties, below 1 against a whole-millisecond column', () => {
  assert.equal(spearmanTieBound([3, 1, 2]), 1);
  assert.ok(Math.abs(spearmanTieBound([1, 1, 2]) - Math.sqrt(3) / 2) < 1e-12);
  // a tie-free prediction in the measured order reaches exactly the bound
  assert.ok(Math.abs(spearman([9, 9, 10, 11, 11], [1, 2, 3, 4, 5]) - spearmanTieBound([9, 9, 10, 11, 11])) < 1e-12);
});

test('denoising the reference keeps the cost table and the interactions devices share, drops one device\'s noise', () => {
  const archs = sampleArchs(NB, { count: 800, seed: 21 });
  const codes = encodeArchs(NB, archs);
  // an interaction no additive table holds: edges 0 and 1 carry the same operation
  const shared = Float64Array.from({ length: codes.n }, (_, i) => ((codes.codes[i * codes.p] as number) - 0 === (codes.codes[i * codes.p + 1] as number) - 5 ? 0.4 : 0));
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const clean = names.map((_, s) => syntheticDevice(archs, NB, s).map((v, i) => v * Math.exp((0.5 + 0.1 * s) * (shared[i] as number))));
  const rng = seedrandom.alea('noise');
  const noisy = clean.map((col) => col.map((v) => v * Math.exp(0.15 * (rng() - 0.5) * Math.sqrt(12))));
  const measured = referenceMatrix(codes, { devices: names, ms: noisy });
  const truth = referenceMatrix(codes, { devices: names, ms: clean });
  const den = denoiseReference(codes, measured);
  assert.deepEqual(den.devices, measured.devices);
  const all = Array.from({ length: codes.n }, (_, i) => i);
  const rms = (a: Float64Array, b: Float64Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - (b[i] as number)) ** 2, 0) / a.length);
  truth.cols.forEach((t, d) => {
    const raw = rms(measured.cols[d] as Float64Array, t);
    const cleaned = rms(den.cols[d] as Float64Array, t);
    const fit = fitAdditiveLog(codes, measured.cols[d] as Float64Array, all);
    const additiveOnly = rms(Float64Array.from(all, (i) => fit.intercept + Array.from({ length: codes.p }, (_, j) => fit.costs[codes.codes[i * codes.p + j] as number] as number).reduce((a, b) => a + b, 0)), t);
    assert.ok(cleaned < 0.6 * raw, `device ${d}: denoised rms ${cleaned.toFixed(4)} vs raw ${raw.toFixed(4)}`);
    assert.ok(cleaned < 0.6 * additiveOnly, `device ${d}: denoised rms ${cleaned.toFixed(4)} vs additive only ${additiveOnly.toFixed(4)} (the shared interaction is kept)`);
  });
  // too few devices to tell shared structure from noise: returned as measured
  const two = referenceMatrix(codes, { devices: ['a', 'b'], ms: noisy.slice(0, 2) });
  assert.equal(denoiseReference(codes, two), two);
});

test('a broken measurement among the K samples is dropped instead of bending the fit', () => {
  const archs = sampleArchs(NB, { count: 400, seed: 4 });
  const a = syntheticDevice(archs, NB, 1);
  const b = syntheticDevice(archs, NB, 2);
  const truth = a.map((v) => 3.7 * v);
  const target = [0, 40, 80, 120, 160, 200, 240, 280, 320, 360].map((index) => ({ index, ms: truth[index] as number }));
  // HELP's pixel3 column holds entries like this: 3 µs for a network that takes milliseconds
  (target[3] as { ms: number }).ms = 0.003;
  const out = fewShotPredict({ space: NB, archs, reference: { devices: ['a', 'b'], ms: [a, b] }, target });
  assert.ok(withinShare(out.ms, truth, 0.01) > 0.99, `within 1%: ${withinShare(out.ms, truth, 0.01)}`);
});

test('device embedding: a new draw from a low-rank population is found from 10 samples', () => {
  const archs = sampleArchs(NB, { count: 500, seed: 31 });
  const codes = encodeArchs(NB, archs);
  const patterns = [1, 2, 3].map((s) => syntheticDevice(archs, NB, 40 + s).map(Math.log));
  const rng = seedrandom.alea('population');
  const draw = () => {
    const w = patterns.map(() => 0.5 + rng());
    return Float64Array.from(archs, (_, i) => Math.exp(patterns.reduce((s, p, j) => s + (w[j] as number) * (p[i] as number), 0)));
  };
  const names = Array.from({ length: 14 }, (_, d) => `d${d}`);
  const ref = referenceMatrix(codes, { devices: names, ms: names.map(draw) });
  const emb = deviceEmbedding(ref);
  assert.ok(emb && emb.features.length >= 3);
  const truth = draw();
  const idx = Array.from({ length: 10 }, (_, r) => r * 50);
  const { logPred } = embeddingModel(emb, idx, Float64Array.from(idx, (i) => Math.log(truth[i] as number)));
  const pred = logPred.map(Math.exp);
  assert.ok(withinShare(pred, truth, 0.02) > 0.95, `within 2%: ${withinShare(pred, truth, 0.02)}`);
  assert.equal(deviceEmbedding(referenceMatrix(codes, { devices: ['a', 'b'], ms: [draw(), draw()] })), null);
});

/** A synthetic device additive in milliseconds: fixed cost plus a per-choice cost for every position. */
function linearDevice(archs: string[], space = FB, seed = 1): Float64Array {
  const rng = seedrandom.alea(`lin-${seed}`);
  const cost = space.positions.map((p) => p.choices.map(() => 0.2 + 2 * rng() ** 3));
  return Float64Array.from(archs, (a) => 5 + space.parse(a).reduce((s, c, j) => s + (cost[j] as number[])[space.positions[j]!.choices.findIndex((x) => x.name === c)]!, 0));
}

test('choiceTableBasis: an additive-in-ms reference device is its own table, scaled to mean 1', () => {
  const archs = sampleArchs(FB, { count: 1500, seed: 41 });
  const codes = encodeArchs(FB, archs);
  const a = linearDevice(archs, FB, 1);
  const [col] = choiceTableBasis(codes, referenceMatrix(codes, { devices: ['a'], ms: [a] }));
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(col && withinShare(col, a.map((v) => v / mean), 0.01) > 0.99, `within 1%: ${col && withinShare(col, a.map((v) => v / mean), 0.01)}`);
});

test('device basis: a new device whose layers mix three references in milliseconds is found from 10 samples', () => {
  const archs = sampleArchs(FB, { count: 2000, seed: 42 });
  const refs = [1, 2, 3, 4].map((s) => linearDevice(archs, FB, s));
  // layer by layer a mix of three of them: no single device or log-space pair is it
  const truth = Float64Array.from(archs, (_, i) => 0.2 * (refs[0]![i] as number) + 0.5 * (refs[1]![i] as number) + 0.3 * (refs[2]![i] as number));
  const target = Array.from({ length: 10 }, (_, r) => ({ index: r * 173, ms: truth[r * 173] as number }));
  const out = fewShotPredict({ space: FB, archs, reference: { devices: ['a', 'b', 'c', 'd'], ms: refs }, target });
  assert.ok(out.basisWeight > 0.5, `basis weight ${out.basisWeight}`);
  // the basis candidates' ridge shrinks the mix a little: within 2% on nearly all, not exact
  assert.ok(withinShare(out.ms, truth, 0.02) > 0.95, `within 2%: ${withinShare(out.ms, truth, 0.02)}`);
  assert.ok(spearman(out.ms, truth) > 0.99, `Spearman ${spearman(out.ms, truth)}`);
});

test('prediction intervals: around every prediction, narrow for an exact device, ~90% coverage under noise', () => {
  const archs = sampleArchs(NB, { count: 3000, seed: 43 });
  const refs = [1, 2, 3].map((s) => syntheticDevice(archs, NB, s));
  const reference = { devices: ['a', 'b', 'c'], ms: refs };
  const exact = refs[0]!.map((v) => 2 * v);
  const idx = Array.from({ length: 10 }, (_, r) => r * 290);
  const clean = fewShotPredict({ space: NB, archs, reference, target: idx.map((index) => ({ index, ms: exact[index] as number })) });
  assert.equal(clean.interval, 0.9);
  for (let i = 0; i < archs.length; i++) assert.ok((clean.lo[i] as number) <= (clean.ms[i] as number) && (clean.ms[i] as number) <= (clean.hi[i] as number));
  assert.ok(clean.logSigma < 0.01, `log sigma of an exact device ${clean.logSigma}`);
  // the same device with 8% multiplicative measurement noise: the intervals widen to cover it
  const rng = seedrandom.alea('interval-noise');
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const noisy = exact.map((v) => v * Math.exp(0.08 * gauss()));
  let covered = 0;
  let runs = 0;
  for (let s = 0; s < 8; s++) {
    const pick = Array.from({ length: 10 }, (_, r) => (r * 290 + s * 31) % archs.length);
    const out = fewShotPredict({ space: NB, archs, reference, target: pick.map((index) => ({ index, ms: noisy[index] as number })) });
    for (let i = 0; i < archs.length; i++) if ((noisy[i] as number) >= (out.lo[i] as number) && (noisy[i] as number) <= (out.hi[i] as number)) covered++;
    runs += archs.length;
  }
  assert.ok(covered / runs > 0.8 && covered / runs < 0.98, `coverage ${covered / runs}`);
});
