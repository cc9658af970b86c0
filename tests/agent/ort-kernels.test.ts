import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  graphInfo, KernelProfileError, kernelsFromProfile, parseProfileJson, profileKernels, profileKernelsWasm, runtimeKernels, type ProfileEvent,
} from '../../agent/backends/index.ts';
import { buildOnnx, getSpace, lowerNetwork, sampleArchs, sampleGraph } from '../../ops-library/index.ts';
import { KernelProfileSchema } from '../../protocol/index.ts';

function network(space: string, seed = 3): Uint8Array {
  const s = getSpace(space);
  return buildOnnx(lowerNetwork(s.expand(sampleArchs(s, { count: 1, seed })[0] as string)));
}

/** ORT's optimised graph of `bytes`, written by a session of its own (what the kernels must be). */
async function optimisedGraph(bytes: Uint8Array): Promise<ReturnType<typeof graphInfo>> {
  const dir = await mkdtemp(join(tmpdir(), 'hwlat-opt-'));
  try {
    const path = join(dir, 'opt.onnx');
    const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, optimizedModelFilePath: path, logSeverityLevel: 3 });
    await s.release();
    return graphInfo(new Uint8Array(await readFile(path)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('profileKernels on a NAS-Bench-201 network returns every node of the optimised graph, with shapes, attributes and times that fit in the run', async () => {
  const bytes = network('nasbench201');
  const p = await profileKernels(bytes, { threads: 1, runs: 8, warmup: 2 });
  const opt = await optimisedGraph(bytes);
  // the optimised graph node for node, in the order ORT ran them
  assert.deepEqual(new Set(p.kernels.map((k) => k.name)), new Set(opt.nodes.map((n) => n.name)));
  assert.equal(p.kernels.length, opt.nodes.length);
  const byName = new Map(opt.nodes.map((n) => [n.name, n]));
  for (const k of p.kernels) assert.equal(k.op, byName.get(k.name)?.op, k.name);
  assert.deepEqual(p.unmatched, []);
  // ORT's CPU rewrites: BN folded into NCHWc convs, layout reorders around them
  const convs = p.kernels.filter((k) => k.op === 'com.microsoft.nchwc:Conv');
  assert.ok(convs.length >= 10, `NCHWc convs: ${convs.length}`);
  assert.ok(p.kernels.some((k) => k.op === 'com.microsoft.nchwc:ReorderOutput'));
  for (const k of convs) {
    assert.equal(k.inputs[0]?.length, 4, `${k.name} input rank`);
    assert.equal(k.outputs[0]?.length, 4, `${k.name} output rank`);
    assert.equal(typeof k.attrs.group, 'number', `${k.name} attrs ${JSON.stringify(k.attrs)}`);
    // a BatchNormalization ORT turned into an NCHWc conv has no kernel_shape; a real conv does
    if (k.nodes.some((n) => n.startsWith('n_Conv_'))) assert.ok(Array.isArray(k.attrs.kernel_shape), `${k.name} attrs ${JSON.stringify(k.attrs)}`);
    else assert.ok(k.nodes.some((n) => n.startsWith('n_BatchNormalization_')), `${k.name} covers ${k.nodes.join(' ')}`);
    assert.ok(k.ms > 0, `${k.name} took ${k.ms} ms`);
  }
  assert.deepEqual(p.kernels.at(-1)?.outputs, [[1, 10]]);
  // times: each >= 0, their sum inside the run, the overhead between kernels visible
  for (const k of p.kernels) assert.ok(Number.isFinite(k.ms) && k.ms >= 0, `${k.name} ${k.ms}`);
  const sum = p.kernels.reduce((a, k) => a + k.ms, 0);
  assert.ok(sum > 0 && sum <= p.runMs, `Σ kernels ${sum} ms vs run ${p.runMs} ms`);
  assert.ok(p.kernelSumMs > 0 && p.kernelSumMs <= p.runMs, `kernel sum ${p.kernelSumMs} vs run ${p.runMs}`);
  assert.equal(p.runs, 8);
  assert.equal(p.warmup, 2);
  // every source node is covered by exactly one kernel (fused ones included)
  const src = graphInfo(bytes).nodes.map((n) => n.name);
  const covered = p.kernels.flatMap((k) => k.nodes);
  assert.deepEqual([...covered].sort(), [...src].sort());
  assert.deepEqual(p.folded, []);
  // what goes on the wire
  KernelProfileSchema.parse(p);
});

test('profileKernels on an FBNet network: Conv+BN+ReLU is one kernel with its activation, the residual Add fused into the conv before it', async () => {
  const p = await profileKernels(network('fbnet'), { threads: 1, runs: 5, warmup: 1 });
  const fused = p.kernels.filter((k) => k.attrs.activation === 'Relu');
  assert.ok(fused.length >= 10);
  for (const k of fused) {
    const ops = k.nodes.map((n) => n.replace(/^n_|_\d+$/g, ''));
    assert.deepEqual(ops, ['Conv', 'BatchNormalization', 'Relu'], `${k.name} covers ${k.nodes.join(' ')}`);
  }
  // depthwise: one group per channel
  const dw = p.kernels.find((k) => typeof k.attrs.group === 'number' && k.attrs.group > 1 && k.attrs.group === k.outputs[0]?.[1]);
  assert.ok(dw, 'a depthwise conv kernel');
  // a Conv+Add (Sum) kernel has the addend as its 4th input and covers the Add
  const sum = p.kernels.find((k) => k.nodes.some((n) => n.startsWith('n_Add_')));
  assert.ok(sum && sum.inputs.length === 4, `Sum kernel ${JSON.stringify(sum)}`);
  assert.deepEqual(sum.inputs[3], sum.outputs[0]);
});

test('profileKernelsWasm: onnxruntime-web prints its profile at endProfiling; kernels join the source graph by name', async () => {
  const bytes = network('fbnet', 5);
  const p = await profileKernelsWasm(bytes, { threads: 1, runs: 4, warmup: 1 });
  const fused = p.kernels.filter((k) => k.op === 'com.microsoft:FusedConv');
  assert.ok(fused.length >= 10, `FusedConv kernels: ${fused.length}`);
  for (const k of fused) {
    assert.ok(Array.isArray(k.attrs.kernel_shape), `${k.name} attrs from the source Conv: ${JSON.stringify(k.attrs)}`);
    assert.ok(k.nodes[0] === k.name, `${k.name} keeps its Conv's name: ${k.nodes.join(' ')}`);
  }
  assert.ok(fused.some((k) => k.attrs.activation === 'Relu'));
  // wasm does not use NCHWc
  assert.ok(!p.kernels.some((k) => k.op.includes('nchwc')));
  const sum = p.kernels.reduce((a, k) => a + k.ms, 0);
  assert.ok(sum > 0 && sum <= p.runMs, `Σ ${sum} vs run ${p.runMs}`);
  const src = graphInfo(bytes).nodes.map((n) => n.name);
  assert.deepEqual([...p.kernels.flatMap((k) => k.nodes)].sort(), [...src].sort());
});

test('kernels ORT inlines from a function (HardSwish → HardSigmoid, Mul) are joined to their unnamed optimised nodes and cover the HardSwish', async () => {
  // (a HardSwish alone: after a conv, ORT fuses it into the conv)
  const bytes = sampleGraph({ kind: 'activation', act: 'hswish', shape: [32, 14, 14] });
  const p = await profileKernels(bytes, { threads: 1, runs: 2, warmup: 0 });
  assert.deepEqual(p.unmatched, []);
  assert.deepEqual(p.folded, []);
  const hs = p.kernels.find((k) => k.op === 'HardSigmoid');
  const mul = p.kernels.find((k) => k.op === 'Mul');
  assert.ok(hs && mul, p.kernels.map((k) => k.op).join());
  assert.ok(Math.abs((hs.attrs.alpha as number) - 1 / 6) < 1e-6 && hs.attrs.beta === 0.5, JSON.stringify(hs.attrs));
  const hswish = graphInfo(bytes).nodes.find((n) => n.op === 'HardSwish')!.name;
  assert.deepEqual(hs.nodes, [hswish]);
  assert.deepEqual(mul.nodes, [hswish]);
  assert.ok(p.kernels.filter((k) => k.op === 'Neg').every((k) => !k.nodes.includes(hswish)), 'the Negs around it do not claim the HardSwish');
});

/** A synthetic ORT profile: `runs` model_run events, each with the given node durations (µs). */
function fakeProfile(runs: Array<Array<[string, string, number]>>): ProfileEvent[] {
  const events: ProfileEvent[] = [{ cat: 'Session', name: 'session_initialization', ts: 0, dur: 50, args: {} }];
  let ts = 100;
  for (const nodes of runs) {
    const start = ts;
    for (const [name, op, dur] of nodes) {
      ts += 2;
      events.push({ cat: 'Node', name: `${name}_kernel_time`, ts, dur, args: { op_name: op, input_type_shape: [{ float: [1, 4] }], output_type_shape: [{ float: [1, 4] }] } });
      ts += dur;
    }
    ts += 5;
    events.push({ cat: 'Session', name: 'model_run', ts: start, dur: ts - start, args: {} });
    ts += 10;
  }
  return events;
}

test('kernelsFromProfile: warm-up runs left out, medians per node, a node run twice in one run summed, order of execution kept', () => {
  const events = fakeProfile([
    [['a', 'Relu', 1000], ['b', 'Sigmoid', 1000]], // warm-up: slow, left out
    [['a', 'Relu', 10], ['b', 'Sigmoid', 20], ['b', 'Sigmoid', 20]],
    [['a', 'Relu', 30], ['b', 'Sigmoid', 40]],
    [['a', 'Relu', 20], ['b', 'Sigmoid', 30]],
  ]);
  const p = kernelsFromProfile(events, { warmup: 1 });
  assert.deepEqual(p.kernels.map((k) => [k.name, k.op, k.ms]), [['a', 'Relu', 0.02], ['b', 'Sigmoid', 0.04]]);
  assert.equal(p.runs, 3);
  assert.ok(p.kernelSumMs <= p.runMs);
  assert.deepEqual(p.kernels[0]?.nodes, ['a']);
  assert.deepEqual(runtimeKernels(events)[1], { op: 'Sigmoid', attrs: {}, inputs: [[1, 4]], outputs: [[1, 4]], nodes: ['b'] });
});

test('kernelsFromProfile and parseProfileJson name what is wrong with a profile', () => {
  assert.throws(() => parseProfileJson('[{"cat": "Node",'), (e: unknown) => e instanceof KernelProfileError && /not valid JSON/.test(e.message));
  assert.throws(() => parseProfileJson('{"a": 1}'), /JSON array of trace events/);
  assert.throws(() => parseProfileJson('[{"cat": "Node"}]'), /profile event \[0\]/);
  assert.throws(() => kernelsFromProfile([{ cat: 'Node', name: 'x_kernel_time', ts: 0, dur: 1 }]), /no 'model_run' event/);
  assert.throws(() => kernelsFromProfile(fakeProfile([[['a', 'Relu', 5]]]), { warmup: 1 }), /all of them warm-up/);
  assert.throws(() => kernelsFromProfile(fakeProfile([[]])), /no node events/);
  assert.throws(() => kernelsFromProfile(fakeProfile([[['a', 'Relu', 5]]]), { warmup: -1 }), /'warmup'/);
});

test('profileKernels refuses bad arguments and bytes that are not ONNX, and leaves no temporary files behind', async () => {
  const ours = async () => (await readdir(tmpdir())).filter((f) => f.startsWith('hwlat-kernels-')).length;
  const before = await ours();
  await assert.rejects(profileKernels(new Uint8Array([1, 2, 3])), /protobuf|parse|model/i);
  await assert.rejects(profileKernels(network('nasbench201'), { runs: 0 }), /'runs' must be an integer >= 1/);
  await assert.rejects(profileKernels(network('nasbench201'), { threads: -1 }), /'threads'/);
  await assert.rejects(profileKernels('x' as unknown as Uint8Array), /'bytes' must be a Uint8Array/);
  await profileKernels(network('nasbench201'), { runs: 1, warmup: 0 });
  assert.equal(await ours(), before);
});
