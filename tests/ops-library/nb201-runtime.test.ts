import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { buildOnnx, getSpace, lowerNetwork, sampleArchs } from '../../ops-library/index.ts';
import { NB201_EDGE_ENDS } from '../../ops-library/ops/nasbench201.ts';

const { onnx } = onnxProto;

/** Whether node 3 (the cell output) depends on the cell input other than through all-`none` (zero) nodes. */
function outputLive(edges: readonly string[]): boolean {
  const live = [true, false, false, false];
  for (let j = 1; j <= 3; j++) NB201_EDGE_ENDS.forEach(([from, to], i) => (live[j] ||= to === j && edges[i] !== 'none' && (live[from] as boolean)));
  return live[3] as boolean;
}

test('nasbench201 units run each pool and zero as often as ONNX Runtime\'s optimised graph does', async () => {
  const space = getSpace('nasbench201');
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-nb201-'));
  try {
    const file = join(dir, 'optimised.onnx');
    let checked = 0;
    for (const arch of sampleArchs(space, { count: 200, seed: 77 })) {
      // a cell whose output depends on zeros only lets ORT drop a few more Muls: not modelled
      if (!outputLive(space.parse(arch))) continue;
      const session = await ort.InferenceSession.create(buildOnnx(lowerNetwork(space.expand(arch)), { batch: 1 }), {
        graphOptimizationLevel: 'all', optimizedModelFilePath: file, intraOpNumThreads: 1, logSeverityLevel: 3,
      });
      await session.release();
      const nodes = onnx.ModelProto.decode(readFileSync(file)).graph?.node ?? [];
      const count = (op: string) => nodes.filter((n) => n.opType === op).length;
      const units = space.units(arch);
      const unitsOf = (edge: string) => units.filter((u) => u.op === 'nb201_op' && u.edge === edge).length;
      // the two reduction blocks add one AveragePool each
      assert.equal(unitsOf('avg_pool_3x3') + 2, count('AveragePool'), `pools of ${arch}`);
      assert.equal(unitsOf('none'), count('Mul'), `zeros of ${arch}`);
      checked++;
    }
    assert.ok(checked > 150, `${checked} architectures checked`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
