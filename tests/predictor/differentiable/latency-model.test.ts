import assert from 'node:assert/strict';
import { test, before } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import seedrandom from 'seedrandom';
import {
  fbnetLoss, initTf, LATENCY_ONNX_OPS, LatencyModel, LatencyPredictor, latencyJson, latencyOnnx, proxylessAddLinear, proxylessMulLog,
  type PredictorKind,
} from '../../../predictor/index.ts';
import { makeRegressor } from '../../../predictor/regressors.ts';
import { tf } from '../../../predictor/tf.ts';
import { syntheticPredictor } from '../../helpers/latency-model.ts';

// Real predictors (trained by trainPredictor on synthetic measurements), their differentiable form
// in tfjs, and its ONNX export run in a real onnxruntime-node session.
let fbnet: LatencyPredictor;
let proxyless: LatencyPredictor;
let nb201: LatencyPredictor;

/** The predictor with a residual MLP of random (non-zero) weights: the composite's nonlinear path. */
function withResidual(p: LatencyPredictor, seed: string): LatencyPredictor {
  const inputs = p.space.positions.reduce((a, pos) => a + pos.choices.length, 0);
  const spec = { inputs, hidden: [16] };
  const model = makeRegressor(spec);
  const rng = seedrandom.alea(seed);
  model.setWeights(model.getWeights().map((w) => tf.tensor(Array.from({ length: w.size }, () => (rng() - 0.5) * 0.6), w.shape)));
  return new LatencyPredictor({ ...p.data, residual: spec }, p.encodingModel, model);
}

before(async () => {
  await initTf();
  fbnet = withResidual(await syntheticPredictor('fbnet', { epochs: 20 }), 'fb');
  proxyless = withResidual(await syntheticPredictor('proxyless-mobile', { epochs: 20 }), 'px');
  nb201 = await syntheticPredictor('nasbench201', { epochs: 20, encoding: false });
  // the enumerated form must carry the RBF correction: tests/predictor/rbf-residual.test.ts relies
  // on these one-hot checks instead of enumerating the space a second time
  assert.ok(nb201.data.kernelResidual, 'the NAS-Bench-201 predictor kept its RBF correction');
});

/** Softmax probabilities of random logits over each layer's real candidates (padding 0). */
function randomProbs(m: LatencyModel, seed: string): number[][] {
  const rng = seedrandom.alea(seed);
  return m.params.candidateNames.map((row) => {
    const e = row.map((n) => (n === null ? 0 : Math.exp(2 * (rng() - 0.5) * 2)));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

const oneHot = (m: LatencyModel, idx: Int32Array) => Array.from({ length: m.layers }, (_, l) => Array.from({ length: m.candidates }, (_, i) => (i === idx[l] ? 1 : 0)));
const value = (m: LatencyModel, probs: number[][]) => tf.tidy(() => m.expected(probs).dataSync()[0] as number);
const relClose = (a: number, b: number, rel: number, what: string) => assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-12), `${what}: ${a} vs ${b}`);

test('a one-hot grid gives exactly the predictor\'s own prediction, for every kind and space', () => {
  const cases: Array<[LatencyPredictor, PredictorKind[]]> = [[fbnet, ['lut-sum', 'composite', 'encoding-mlp']], [proxyless, ['composite', 'lut-sum']], [nb201, ['composite', 'lut-sum']]];
  for (const [p, kinds] of cases) {
    const rng = seedrandom.alea(p.space.name);
    for (const kind of kinds) {
      const m = LatencyModel.fromPredictor(p, { kind });
      assert.equal(m.params.form, p.space.additive ? 'additive' : 'enumerated');
      for (let k = 0; k < 5; k++) {
        const idx = Int32Array.from(p.space.positions, (pos) => Math.floor(rng() * pos.choices.length));
        relClose(value(m, oneHot(m, idx)), p.predictIndices([idx], kind)[0] as number, 2e-6, `${p.space.name} ${kind} ${idx.join(',')}`);
      }
      m.dispose();
    }
  }
  // the residual path is really exercised: with it, the composite differs from its linear part
  const m = LatencyModel.fromPredictor(fbnet, { kind: 'composite' });
  assert.equal(m.params.mlpMode, 'residual');
  m.dispose();
});

test('calibration: E[latency] scales with the current calibration like predict() does', () => {
  const ref = fbnet.data.calibrationMs as number;
  const a = LatencyModel.fromPredictor(fbnet);
  const b = LatencyModel.fromPredictor(fbnet, { calibrationMs: 2 * ref });
  const probs = randomProbs(a, 'cal');
  relClose(value(b, probs), 2 * value(a, probs), 1e-6, 'scaled');
  a.dispose();
  b.dispose();
});

/**
 * The enumerated form's value in float64, straight from its formula Σ_a Π_l p[l, a_l]·ms_a: a
 * float32 sum over 15,625 architectures is too coarse for a finite difference. Other forms: tfjs.
 */
function f64(m: LatencyModel, probs: number[][]): number {
  if (m.params.form !== 'enumerated') return value(m, probs);
  const archs = m.params.archs as Int32Array;
  const ms = m.params.archMs as Float32Array;
  let e = 0;
  for (let a = 0; a < ms.length; a++) {
    let pr = 1;
    for (let l = 0; l < m.layers; l++) pr *= probs[l]?.[archs[a * m.layers + l] as number] as number;
    e += pr * (ms[a] as number);
  }
  return e;
}

test('the analytic gradient of E[latency] matches central finite differences', () => {
  for (const [p, kind] of [[fbnet, 'composite'], [fbnet, 'encoding-mlp'], [proxyless, 'composite'], [nb201, 'composite']] as const) {
    const m = LatencyModel.fromPredictor(p, { kind });
    const probs = randomProbs(m, `g-${p.space.name}`);
    const { latencyMs, grad } = m.valueAndGrad(probs);
    relClose(latencyMs, value(m, probs), 1e-6, 'valueAndGrad value');
    relClose(latencyMs, f64(m, probs), 1e-4, 'tfjs value vs the formula in float64');
    const rng = seedrandom.alea(`dir-${kind}`);
    for (let t = 0; t < 3; t++) {
      // a direction inside the simplex's tangent space (rows sum to 0, padding untouched)
      const d = probs.map((row, l) => {
        const v = row.map((_, i) => (m.params.candidateNames[l]?.[i] === null ? 0 : rng() - 0.5));
        const n = v.filter((_, i) => m.params.candidateNames[l]?.[i] !== null).length;
        const mean = v.reduce((a, b) => a + b, 0) / n;
        return v.map((x, i) => (m.params.candidateNames[l]?.[i] === null ? 0 : x - mean));
      });
      const an = grad.reduce((a, row, l) => a + row.reduce((b, g, i) => b + g * (d[l]?.[i] as number), 0), 0);
      // the MLPs are ReLU nets, piecewise linear: a central difference whose interval straddles a
      // kink is off by the kink's jump. A wrong gradient misses at every step size; a right one
      // matches at any step whose interval holds no kink, so shrink the step until one does.
      const fds: number[] = [];
      for (const eps of [2e-3, 5e-4, 1.25e-4]) {
        const at = (s: number) => f64(m, probs.map((row, l) => row.map((v, i) => v + s * eps * (d[l]?.[i] as number))));
        fds.push((at(1) - at(-1)) / (2 * eps));
      }
      const ok = fds.some((fd) => Math.abs(fd - an) <= 2e-2 * Math.max(Math.abs(an), 1e-3) + 2e-4);
      assert.ok(ok, `${p.space.name} ${kind}: finite differences ${fds.join(', ')} vs analytic ${an}`);
    }
    m.dispose();
  }
});

test('each latency loss: its value is the published formula and its gradient w.r.t. α matches finite differences', () => {
  const m = LatencyModel.fromPredictor(fbnet);
  const L = m.layers;
  const C = m.candidates;
  const mask = tf.tensor2d(m.params.candidateNames.flat().map((n) => (n === null ? -1e9 : 0)), [L, C]);
  const alpha0 = tf.tensor2d(Array.from({ length: L * C }, (_, i) => Math.sin(i * 1.3)), [L, C]);
  const ce = 0.7;
  const e0 = tf.tidy(() => m.expected(tf.softmax(tf.add(alpha0, mask)), { validate: false }).dataSync()[0] as number);
  const ref = e0 * 1.3;
  const cases: Array<[string, (lat: tf.Scalar) => tf.Scalar, number]> = [
    ['proxyless mul#log', (lat) => proxylessMulLog(ce, lat, { ref }), 0.2 * ce * Math.pow(Math.log(e0) / Math.log(ref), 0.3)],
    ['proxyless add#linear', (lat) => proxylessAddLinear(ce, lat, { ref, lambda: 0.5 }), ce + (0.5 * (e0 - ref)) / ref],
    ['fbnet', (lat) => fbnetLoss(ce, lat), ce * 0.2 * Math.pow(Math.log(e0), 0.6)],
    ['mul#log toward a target', (lat) => proxylessMulLog(ce, lat, { targetMs: ref }), 0.2 * ce * Math.pow(Math.log(ref * Math.exp(Math.abs(Math.log(e0 / ref)))) / Math.log(ref), 0.3)],
  ];
  for (const [name, loss, expected] of cases) {
    const f = (a: tf.Tensor) => loss(m.expected(tf.softmax(tf.add(a, mask)), { validate: false }));
    relClose(tf.tidy(() => f(alpha0).dataSync()[0] as number), expected, 1e-5, `${name} value`);
    const g = tf.tidy(() => tf.grad(f)(alpha0).dataSync());
    const dir = Float32Array.from({ length: L * C }, (_, i) => Math.cos(i * 0.7));
    const eps = 1e-2;
    const at = (s: number) => tf.tidy(() => f(tf.add(alpha0, tf.mul(tf.tensor2d(dir, [L, C]), s * eps))).dataSync()[0] as number);
    const fd = (at(1) - at(-1)) / (2 * eps);
    const an = Array.from(g as Float32Array).reduce((a, v, i) => a + v * (dir[i] as number), 0);
    assert.ok(Math.abs(an) > 1e-6, `${name}: the latency term must reach α (gradient ${an})`);
    assert.ok(Math.abs(fd - an) <= 3e-2 * Math.abs(an) + 1e-6, `${name}: finite difference ${fd} vs analytic ${an}`);
  }
  // the target form is smallest at the target: lower latency is penalised too
  const below = tf.tidy(() => proxylessAddLinear(0, 5, { targetMs: 10 }).dataSync()[0] as number);
  const at = tf.tidy(() => proxylessAddLinear(0, 10, { targetMs: 10 }).dataSync()[0] as number);
  assert.ok(below > at && Math.abs(at) < 1e-6, `below target ${below}, at target ${at}`);
  mask.dispose();
  alpha0.dispose();
  m.dispose();
});

/** Every node's op type in an exported graph. */
function opsOf(bytes: Uint8Array): string[] {
  return onnxProto.onnx.ModelProto.decode(bytes).graph?.node?.map((n) => n.opType as string) ?? [];
}

test('the exported ONNX graph equals the tfjs model to 1e-4 in a real onnxruntime session, from basic ops only', async () => {
  for (const [p, kind] of [[fbnet, 'composite'], [fbnet, 'encoding-mlp'], [proxyless, 'composite'], [nb201, 'composite'], [fbnet, 'lut-sum']] as const) {
    const m = LatencyModel.fromPredictor(p, { kind });
    const bytes = latencyOnnx(m.params);
    for (const op of opsOf(bytes)) assert.ok((LATENCY_ONNX_OPS as readonly string[]).includes(op), `${p.space.name}: op ${op} outside ${LATENCY_ONNX_OPS.join(', ')}`);
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    try {
      assert.deepEqual(session.inputNames, ['probs']);
      assert.deepEqual(session.outputNames, ['latency_ms']);
      for (const probs of [randomProbs(m, 'onnx-a'), randomProbs(m, 'onnx-b'), oneHot(m, new Int32Array(m.layers))]) {
        const out = await session.run({ probs: new ort.Tensor('float32', Float32Array.from(probs.flat()), [m.layers, m.candidates]) });
        const t = out.latency_ms as ort.Tensor;
        assert.deepEqual(t.dims, [1]);
        relClose((t.data as Float32Array)[0] as number, value(m, probs), 1e-4, `${p.space.name} ${kind} onnx vs tfjs`);
      }
    } finally {
      await session.release();
    }
    m.dispose();
  }
});

test('the JSON export evaluated by its documented formula equals the model', () => {
  for (const p of [fbnet, nb201]) {
    const m = LatencyModel.fromPredictor(p);
    const j = JSON.parse(JSON.stringify(latencyJson(m.params)));
    assert.equal(j.layers, m.layers);
    assert.equal(j.candidates, m.candidates);
    assert.ok(Array.isArray(j.formula) && j.formula.length > 0);
    const probs = randomProbs(m, 'json');
    let y: number;
    if (j.form === 'enumerated') {
      y = j.archs.reduce((acc: number, arch: number[], a: number) => acc + arch.reduce((pr, c, l) => pr * (probs[l]?.[c] as number), 1) * j.arch_ms[a], 0);
    } else {
      const x = probs.flat();
      const lin = j.base + x.reduce((a: number, v: number, i: number) => a + v * j.scores[Math.floor(i / j.candidates)][i % j.candidates], 0);
      let h = x;
      for (const d of j.mlp) {
        h = d.b.map((b: number, u: number) => {
          const z = b + h.reduce((a: number, v: number, i: number) => a + v * d.W[i][u], 0);
          return d.relu ? Math.max(0, z) : z;
        });
      }
      y = j.mlp_mode === 'residual' ? lin * (0.1 + Math.max(0, 0.9 + (h[0] as number))) : j.mlp_mode === 'encoding' ? j.y_scale * (h[0] as number) : lin;
      if (j.floor_ms !== null) y = j.floor_ms + Math.max(0, y - j.floor_ms);
    }
    relClose(y, value(m, probs), 1e-5, `${p.space.name} JSON formula`);
    m.dispose();
  }
});

test('bad probabilities: typed errors naming the problem', () => {
  const m = LatencyModel.fromPredictor(proxyless);
  const good = randomProbs(m, 'bad');
  const cases: Array<[unknown, RegExp, ErrorConstructor]> = [
    [good.slice(1), /'probs' must have shape \[21, 7\] \(layers × candidates of 'proxyless-mobile'\), got \[20, 7\]/, RangeError],
    [good.map((r) => r.slice(1)), /must have shape \[21, 7\].*got \[21, 6\]/, RangeError],
    [good.map((r, l) => (l === 3 ? r.map((v, i) => (i === 1 ? -0.1 : i === 2 ? v + (r[1] as number) + 0.1 : v)) : r)), /'probs\[3\]\[1\]' is -0\.1\d*: probabilities must be >= 0/, RangeError],
    [good.map((r, l) => (l === 5 ? r.map((v) => v * 0.5) : r)), /'probs' row 5 \(layer5\) sums to 0\.5\d*, expected 1/, RangeError],
    // layer 0 is a stage's first layer: no 'zero' candidate, so its 7th column is padding
    [good.map((r, l) => (l === 0 ? [0.5, 0, 0, 0, 0, 0, 0.5] : r)), /'probs\[0\]\[6\]' is 0\.5, but layer0 of 'proxyless-mobile' has only 6 candidates/, RangeError],
    [good.map((r, l) => (l === 2 ? r.map((v, i) => (i === 0 ? Number.NaN : v)) : r)), /'probs\[2\]\[0\]' is NaN: probabilities must be finite/, RangeError],
    ['nope', /'probs' must be an array of rows/, TypeError],
    [good.map((r, l) => (l === 1 ? [...r.slice(0, 6), 'x'] : r)), /'probs\[1\]\[6\]' must be a number, got string/, TypeError],
  ];
  for (const [probs, re, type] of cases) assert.throws(() => m.expected(probs as number[][]), (e: Error) => e instanceof type && re.test(e.message), String(re));
  // a tensor of the wrong shape is refused too, before any computation
  const t = tf.ones([3, 3]);
  assert.throws(() => m.expected(t), /must have shape \[21, 7\].*got \[3, 3\]/);
  t.dispose();
  // the losses name their bad inputs
  assert.throws(() => proxylessMulLog(0.5, 10, {}), /'ref' \(the reference latency, ms\) is required/);
  assert.throws(() => fbnetLoss(0.5, 0.8), /LAT must be > 1 ms/);
  assert.throws(() => proxylessAddLinear(0.5, 3, { ref: -1 }), /'ref' must be a number > 0, got -1/);
  m.dispose();
});
