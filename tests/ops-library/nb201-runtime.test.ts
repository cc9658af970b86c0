import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { buildOnnx, getSpace, lowerNetwork, sampleArchs } from '../../ops-library/index.ts';
import { nb201RuntimeKernels } from '../../ops-library/spaces/nasbench201-runtime.ts';

const { onnx } = onnxProto;

/** the kernels of an ORT-optimised graph, in nb201RuntimeKernels' terms (stage: stride-2 ops passed) */
function ortKernels(graph: InstanceType<typeof onnx.GraphProto>): string[] {
  const stage = new Map<string, number>();
  const out: string[] = [];
  for (const n of graph.node ?? []) {
    const attr = (name: string) => n.attribute?.find((a) => a.name === name);
    const strides = attr('strides')?.ints?.map(Number) ?? [];
    const kernel = Number(attr('kernel_shape')?.ints?.[0] ?? 0);
    let st = Math.max(0, ...(n.input ?? []).filter((x) => x).map((x) => stage.get(x as string) ?? 0));
    if (strides.includes(2)) st++;
    for (const o of n.output ?? []) stage.set(o as string, st);
    const act = attr('activation') !== undefined;
    // a Conv's 4th input slot is its Sum input
    const sum = (n.input ?? []).length >= 4 && Boolean(n.input?.[3]);
    const stride = strides[0] ?? 1;
    const blocked = n.domain === 'com.microsoft.nchwc';
    if (n.opType === 'Conv') out.push(kernel ? `conv k${kernel} s${stride} act:${act} sum:${sum} @${st}` : `dwconv act:${act} @${st}`);
    else if (n.opType === 'AveragePool') out.push(`pool k${kernel} s${stride} @${st}`);
    else {
      const kind = ({ BatchNormalization: 'bn', Relu: 'relu', Add: 'add', Mul: 'zero', GlobalAveragePool: 'gap', ReorderInput: 'reorder_in', ReorderOutput: 'reorder_out' } as Record<string, string>)[n.opType as string];
      if (kind) out.push(`${kind} @${st}`);
      else assert.ok(['Flatten', 'Gemm'].includes(n.opType as string) && !blocked, `unexpected ${n.domain}:${n.opType}`);
    }
  }
  return out.sort();
}

const simKernels = (arch: string) =>
  nb201RuntimeKernels(getSpace('nasbench201').expand(arch).layers, [3, 32, 32]).map((k) =>
    k.kind === 'conv' ? `conv k${k.kernel} s${k.stride} act:${k.act} sum:${k.sum} @${k.stage}`
    : k.kind === 'dwconv' ? `dwconv act:${k.act} @${k.stage}`
    : k.kind === 'pool' ? `pool k${k.kernel} s${k.stride} @${k.stage}`
    : `${k.kind} @${k.stage}`).sort();

test("nasbench201's runtime kernels (kernel detection, ort-cpu) are ONNX Runtime's optimised graph: every fusion, pool, zero and layout reorder", async () => {
  const space = getSpace('nasbench201');
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-nb201-'));
  try {
    const file = join(dir, 'optimised.onnx');
    let checked = 0;
    // cells whose output depends on zeros only included: ORT folds those Muls into the stem Conv, and so does detection
    for (const arch of sampleArchs(space, { count: 200, seed: 77 })) {
      const session = await ort.InferenceSession.create(buildOnnx(lowerNetwork(space.expand(arch)), { batch: 1 }), {
        graphOptimizationLevel: 'all', optimizedModelFilePath: file, intraOpNumThreads: 1, logSeverityLevel: 3,
      });
      await session.release();
      const graph = onnx.ModelProto.decode(readFileSync(file)).graph as InstanceType<typeof onnx.GraphProto>;
      assert.deepEqual(simKernels(arch), ortKernels(graph), arch);
      checked++;
    }
    assert.equal(checked, 200);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
