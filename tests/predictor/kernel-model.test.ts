import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { profileKernels } from '../../agent/backends/ort-kernels.ts';
import { buildOnnx, getSpace, lowerNetwork, sampleArchs } from '../../ops-library/index.ts';
import { kernelFeatures, kernelMacs, kernelType, KERNEL_FEATURE_NAMES } from '../../ops-library/kernels/features.ts';
import type { RuntimeKernel } from '../../ops-library/kernels/types.ts';
import { kernelRegressorKind, kernelRegressorKinds, UnknownKernelRegressorError } from '../../predictor/kernel-regressors/index.ts';
import { KernelModel, signTestP, trainKernelModel, type KernelTrainingProfile } from '../../predictor/kernel-model/index.ts';

// real kernels: FBNet networks profiled in a real onnxruntime-node session
const profiles: KernelTrainingProfile[] = [];
before(async () => {
  const space = getSpace('fbnet');
  for (const arch of sampleArchs(space, { count: 7, seed: 3 })) {
    const p = await profileKernels(buildOnnx(lowerNetwork(space.expand(arch))), { threads: 1, runs: 6, warmup: 2 });
    profiles.push({ id: arch, kernels: p.kernels, measuredMs: p.runMs });
  }
});

const strip = (k: RuntimeKernel): RuntimeKernel => ({ op: k.op, attrs: k.attrs, inputs: k.inputs, outputs: k.outputs, nodes: k.nodes });

test('kernel features: one definition, MACs of a convolution and of a matrix product', () => {
  const conv: RuntimeKernel = { op: 'Conv', attrs: { kernel_shape: [3, 3], strides: [2, 2], group: 1 }, inputs: [[1, 16, 32, 32], [32, 16, 3, 3], [32]], outputs: [[1, 32, 16, 16]], nodes: ['c'] };
  assert.equal(kernelMacs(conv), 32 * 16 * 16 * 16 * 9);
  const f = kernelFeatures(conv);
  assert.equal(f.length, KERNEL_FEATURE_NAMES.length);
  assert.equal(f[KERNEL_FEATURE_NAMES.indexOf('stride')], 2);
  assert.equal(kernelType(conv), 'Conv/dense');
  const dw: RuntimeKernel = { ...conv, attrs: { kernel_shape: [3, 3], group: 16 }, inputs: [[1, 16, 32, 32], [16, 1, 3, 3]], outputs: [[1, 16, 32, 32]] };
  assert.equal(kernelType(dw), 'Conv/depthwise');
  assert.equal(kernelMacs(dw), 16 * 32 * 32 * 9);
  const gemm: RuntimeKernel = { op: 'Gemm', attrs: { transB: 1 }, inputs: [[1, 1280], [1000, 1280], [1000]], outputs: [[1, 1000]], nodes: ['fc'] };
  assert.equal(kernelMacs(gemm), 1000 * 1280);
});

test('kernel regressor kinds are registered by name; an unknown one names the known ones', () => {
  assert.deepEqual(kernelRegressorKinds().sort(), ['log-linear', 'random-forest']);
  assert.throws(() => kernelRegressorKind('xgboost'), (e: unknown) => e instanceof UnknownKernelRegressorError && /'xgboost'.*log-linear, random-forest/.test((e as Error).message));
});

test('a held-out network predicted from the kernels of the others: close to its own kernels timed in context', () => {
  for (const kind of ['log-linear', 'random-forest']) {
    const [held, ...rest] = profiles;
    const model = trainKernelModel(rest, { kind, seed: 1 });
    const p = model.predict(held!.kernels.map(strip));
    const actual = held!.kernels.reduce((a, k) => a + k.ms, 0);
    assert.equal(p.kernels.length, held!.kernels.length);
    assert.ok(p.kernels.every((k) => k.ms > 0 && Number.isFinite(k.ms)));
    // FBNet networks share layer configurations: many kernels were timed exactly so
    assert.ok(p.kernels.some((k) => k.source === 'measured'), 'some kernels come from the measured table');
    const ratio = p.kernelSumMs / actual;
    assert.ok(ratio > 0.65 && ratio < 1.5, `${kind}: Σ predicted ${p.kernelSumMs.toFixed(3)} ms vs Σ timed ${actual.toFixed(3)} ms`);
    assert.ok(Math.abs(p.ms - (p.kernelSumMs + p.overheadMs)) < 1e-9);
  }
});

test('kernels are learned at the latency measured without the profiler: a training network is predicted at it', () => {
  // two networks of ten kernels each, both measured at 10 ms without the profiler; the profiler
  // timed one at Σ 10 ms and the other at Σ 20 ms (its run was disturbed, or the profiler's cost)
  const [x, y] = profiles[0]!.kernels.filter((k, i, all) => all.findIndex((o) => o.op === k.op && JSON.stringify(o.inputs) === JSON.stringify(k.inputs)) === i);
  const net = (k: typeof x, ms: number) => Array.from({ length: 10 }, (_, i) => ({ ...k!, name: `${k!.name}-${i}`, ms }));
  const train = [{ id: 'a', kernels: net(x, 1), measuredMs: 10 }, { id: 'b', kernels: net(y, 2), measuredMs: 10 }];
  const scaled = trainKernelModel(train, { kind: 'log-linear', minPerType: 50 });
  const b = scaled.predict(net(y, 0).map(strip));
  assert.ok(Math.abs(b.ms - 10) < 1e-6, `predicted ${b.ms} ms for a network measured at 10 ms`);
  assert.ok(b.kernels.every((k) => k.source === 'measured'));
  // unscaled, the profiler's 20 ms stand (two networks are too few for an overhead term)
  const raw = trainKernelModel(train, { kind: 'log-linear', minPerType: 50, scaleToMeasured: false });
  assert.ok(Math.abs(raw.predict(net(y, 0).map(strip)).ms - 20) < 1e-6);
});

test('the overhead term is learned where the networks agree on its sign, and left at 0 where they split', () => {
  const [x] = profiles[0]!.kernels;
  // eight networks of 5…12 kernels of 1 ms: measured 0.05 ms per kernel above Σ kernels (± noise)
  const nets = (gap: (i: number) => number) =>
    Array.from({ length: 8 }, (_, i) => ({ id: `n${i}`, kernels: Array.from({ length: 5 + i }, (_, j) => ({ ...x!, name: `k${j}`, ms: 1 })), measuredMs: 5 + i + (5 + i) * gap(i) }));
  const agree = trainKernelModel(nets((i) => 0.05 + 0.001 * (i % 3)), { kind: 'log-linear', scaleToMeasured: false });
  assert.ok(Math.abs(agree.overhead.b - 0.051) < 0.0011, `b = ${agree.overhead.b}`);
  assert.equal(agree.overhead.fittedOn, 8);
  // four above, four below: no term
  const split = trainKernelModel(nets((i) => (i % 2 === 0 ? 0.05 : -0.04)), { kind: 'log-linear', scaleToMeasured: false });
  assert.equal(split.overhead.b, 0);
  assert.ok(Math.abs(signTestP([1, 2, 3, 4, 5, 6, 7, 8]) - 2 / 256) < 1e-12);
  assert.equal(signTestP([1, -1, 0]), 1);
});

test('a kernel model saves to JSON and loads to the same predictions; a kernel of an unseen type falls back', () => {
  const model = trainKernelModel(profiles, { kind: 'random-forest', seed: 2 });
  const again = new KernelModel(JSON.parse(JSON.stringify(model.toJSON())));
  const ks = profiles[1]!.kernels.map(strip);
  assert.deepEqual(again.predict(ks), model.predict(ks));
  const odd: RuntimeKernel = { op: 'com.example:Mystery', attrs: {}, inputs: [[1, 8, 4, 4]], outputs: [[1, 8, 4, 4]], nodes: ['m'] };
  const c = model.cost(odd);
  assert.equal(c.source, 'fallback');
  assert.equal(c.model, 'any');
  assert.throws(() => new KernelModel({ ...model.toJSON(), version: 2 as 1 }), /version 1/);
});

test('a kernel type trained on few shapes extrapolates in size, not in the shape features that happened to move with it', () => {
  // 12 Split-like kernels of one model, all at 14×14, so their channel count moves exactly with
  // their size: time ∝ elements. Another model splits fewer channels at a larger resolution.
  const split = (channels: number, spatial: number): RuntimeKernel => ({ op: 'Split', attrs: { axis: 1 }, inputs: [[1, channels, spatial, spatial]], outputs: [[1, channels / 2, spatial, spatial], [1, channels / 2, spatial, spatial]], nodes: ['s'] });
  const train = Array.from({ length: 12 }, (_, i) => {
    const k = split(16 * (1 + i), 14);
    const elements = kernelFeatures(k)[KERNEL_FEATURE_NAMES.indexOf('inputElements')] as number;
    return { ...k, name: `split${i}`, ms: 1e-5 * elements * (1 + 0.02 * ((i * 7) % 5)) };
  });
  const other = split(32, 56);
  const truth = 1e-5 * 32 * 56 * 56;
  for (const kind of kernelRegressorKinds()) {
    const model = trainKernelModel([{ id: 'one-model', kernels: train }], { kind, seed: 1 });
    const ms = model.cost(other).ms;
    assert.ok(ms > truth / 1.5 && ms < truth * 1.5, `${kind}: predicted ${ms.toFixed(4)} ms for a ${truth.toFixed(4)} ms kernel`);
  }
  // a type timed at one size only (ViT's 12 identical Splits) scales with work, not as a constant
  const same = Array.from({ length: 12 }, (_, i) => ({ ...split(768, 14), name: `same${i}`, ms: 1e-5 * 768 * 196 * (1 + 0.02 * (i % 3)) }));
  for (const kind of kernelRegressorKinds()) {
    const model = trainKernelModel([{ id: 'one-shape', kernels: same }], { kind, seed: 1 });
    const ms = model.cost(split(96, 14)).ms;
    const small = 1e-5 * 96 * 196;
    assert.ok(ms > small / 1.5 && ms < small * 1.5, `${kind}: predicted ${ms.toFixed(4)} ms for a ${small.toFixed(4)} ms kernel 8x smaller than every training kernel`);
  }
});

test('a kernel timed inside a network is priced by that timing, not by the same kernel timed in a campaign sample', () => {
  const dw = (ms: number, name: string) => ({ op: 'com.microsoft.nchwc:Conv', attrs: { group: 96, kernel_shape: [3, 3], strides: [1, 1] }, inputs: [[1, 96, 56, 56], [96, 1, 3, 3], [96]], outputs: [[1, 96, 56, 56]], nodes: [name], name, ms });
  const filler = Array.from({ length: 6 }, (_, i) => ({ ...dw(0.1 * (i + 1), `f${i}`), inputs: [[1, 96, 8 * (i + 1), 8 * (i + 1)], [96, 1, 3, 3], [96]], outputs: [[1, 96, 8 * (i + 1), 8 * (i + 1)]] }));
  const model = trainKernelModel([
    { id: 'sample-a', kernels: [dw(0.2, 'a'), ...filler], measuredMs: null },
    { id: 'sample-b', kernels: [dw(0.21, 'b')], measuredMs: null },
    { id: 'sample-c', kernels: [dw(0.22, 'c')], measuredMs: null },
    { id: 'network', kernels: [dw(0.3, 'n')], measuredMs: 0.3 },
  ]);
  const c = model.cost(strip(dw(0, 'x')));
  assert.equal(c.source, 'measured');
  assert.equal(c.ms, 0.3);
});

test('campaign samples are carried into networks by the factor the device\'s own networks show, or left as timed where they agree', () => {
  const conv = (group: number, c: number, hw: number, ms: number, name: string) => ({
    op: 'com.microsoft.nchwc:Conv',
    attrs: { group, kernel_shape: [3, 3], strides: [1, 1] },
    inputs: [[1, c, hw, hw], [c, c / group, 3, 3], [c]],
    outputs: [[1, c, hw, hw]],
    nodes: [name],
    name,
    ms,
  });
  // four networks, each with two depthwise and two dense convs of its own shapes; every one of
  // those kernels was also timed alone in a sample, at `dwRatio` / `denseRatio` times its in-network time
  const device = (dwRatio: number, denseRatio: number) => {
    const profiles: KernelTrainingProfile[] = [];
    for (let n = 0; n < 4; n++) {
      const ks = [conv(32, 32, 8 + 2 * n, 0.1 + 0.01 * n, `dw${n}a`), conv(32, 32, 40 + 2 * n, 0.4 + 0.01 * n, `dw${n}b`), conv(1, 16, 8 + 2 * n, 0.2 + 0.01 * n, `d${n}a`), conv(1, 16, 40 + 2 * n, 0.8 + 0.01 * n, `d${n}b`)];
      profiles.push({ id: `net${n}`, kernels: ks, measuredMs: ks.reduce((a, k) => a + k.ms, 0) });
      for (const k of ks) profiles.push({ id: `sample-${k.name}`, kernels: [{ ...k, ms: k.ms * (k.attrs.group > 1 ? dwRatio : denseRatio) }], measuredMs: null });
    }
    // a depthwise kernel that only a sample timed
    profiles.push({ id: 'sample-only', kernels: [conv(32, 32, 100, 1.5, 'only')], measuredMs: null });
    return profiles;
  };
  const only = strip(conv(32, 32, 100, 0, 'x'));

  const one = trainKernelModel(device(1.5, 1.5), { kind: 'log-linear' });
  assert.equal(one.context.mode, 'any');
  assert.ok(Math.abs((one.context.factors.any as number) - 1 / 1.5) < 1e-9, JSON.stringify(one.context));
  assert.ok(Math.abs(one.cost(only).ms - 1) < 1e-9, `a sample-only depthwise kernel timed at 1.5 ms alone is priced ${one.cost(only).ms} ms`);
  assert.ok((one.context.validation?.any as number) < 1e-9 && Math.abs((one.context.validation?.none as number) - 0.5) < 1e-9);
  assert.deepEqual(new KernelModel(JSON.parse(JSON.stringify(one.toJSON()))).context, one.context);

  const agree = trainKernelModel(device(1, 1), { kind: 'log-linear' });
  assert.equal(agree.context.mode, 'none');
  assert.equal(agree.cost(only).ms, 1.5);

  // per kernel type when asked for: depthwise samples carried by their own factor, dense ones by theirs
  const typed = trainKernelModel(device(1.5, 1), { kind: 'log-linear', context: 'type' });
  assert.ok(Math.abs((typed.context.factors['com.microsoft.nchwc:Conv/depthwise'] as number) - 1 / 1.5) < 1e-9, JSON.stringify(typed.context));
  assert.ok(Math.abs((typed.context.factors['com.microsoft.nchwc:Conv/dense'] as number) - 1) < 1e-9, JSON.stringify(typed.context));
  assert.ok(Math.abs(typed.cost(only).ms - 1) < 1e-9);
  // asked for explicitly, a mode is used as asked
  assert.equal(trainKernelModel(device(1.5, 1), { kind: 'log-linear', context: 'none' }).cost(only).ms, 1.5);
  assert.throws(() => trainKernelModel(device(1, 1), { context: 'sometimes' as 'auto' }), /'context' must be one of none, any, type, auto; got 'sometimes'/);
});
