import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { importOnnx, kernels, RULE_SETS, stripOnnx } from '../../ops-library/index.ts';
import { emit, table } from '../output.ts';

/** Parses `--input-shape 1x3x224x224` (positive integers joined by 'x'), naming the flag in the error. */
export function parseInputShape(value: string): number[] {
  const dims = value.split('x').map((d) => Number(d));
  if (dims.length === 0 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`'--input-shape' must be positive integers joined by 'x' (e.g. 1x3x224x224), got '${value}'`);
  }
  return dims;
}

function readModel(path: string): Uint8Array {
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    return readFileSync(path);
  } catch (e) {
    throw new RangeError(`cannot read ONNX file '${path}': ${(e as Error).message}`);
  }
}

export function onnxCommand(): Command {
  const onnx = new Command('onnx')
    .description('ONNX models: strip weights for small uploads, list the kernels a runtime runs for them')
    .addHelpText('after', '\nExamples:\n  $ hwlat onnx strip resnet50.onnx resnet50.stripped.onnx\n  $ hwlat onnx kernels resnet50.onnx --json\n');
  onnx
    .command('strip')
    .description(
      'drop the weights of an ONNX model, keeping every tensor\'s type and dims, so it still imports to the same shapes and kernels (for `hwlat predict --onnx` and uploads); the result no longer runs',
    )
    .argument('<in>', 'ONNX model to read')
    .argument('<out>', 'where to write the stripped model')
    .option('--input-shape <dims>', 'input shape to check the import with, e.g. 1x3x224x224 (for symbolic dimensions)', parseInputShape)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ hwlat onnx strip resnet50.onnx resnet50.stripped.onnx\n  $ hwlat onnx strip model.onnx small.onnx --input-shape 1x3x224x224 --json\n')
    .action((input: string, output: string, o: { inputShape?: number[]; json?: boolean }) => {
      const bytes = readModel(input);
      const { bytes: stripped, stripped: tensors } = stripOnnx(bytes);
      // the stripped file must import exactly as the original does: check before writing
      const graph = importOnnx(stripped, o.inputShape ? { inputShape: o.inputShape } : {});
      writeFileSync(output, stripped);
      const result = { input, output, bytesIn: bytes.byteLength, bytesOut: stripped.byteLength, strippedTensors: tensors, nodes: graph.nodes.length };
      emit(Boolean(o.json), result, () =>
        `${output}: ${(stripped.byteLength / 1024).toFixed(1)} KiB (from ${(bytes.byteLength / 1024 / 1024).toFixed(1)} MiB), ${tensors} tensors' data dropped, ${graph.nodes.length} nodes import`,
      );
    });
  onnx
    .command('kernels')
    .description(
      "the kernels a runtime executes for a model (kernel detection: the runtime's fusions and layout changes replayed from its rule set), with their shapes and the model nodes each covers",
    )
    .argument('<model>', 'ONNX model (weights may be stripped)')
    .option('--runtime <name>', `rule set: ${Object.keys(RULE_SETS).join(', ')}`, 'ort-cpu')
    .option('--input-shape <dims>', 'input shape for symbolic dimensions, e.g. 1x3x224x224', parseInputShape)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ hwlat onnx kernels resnet50.onnx\n  $ hwlat onnx kernels model.onnx --runtime ort-wasm --input-shape 1x3x224x224 --json\n')
    .action((model: string, o: { runtime: string; inputShape?: number[]; json?: boolean }) => {
      const graph = importOnnx(readModel(model), o.inputShape ? { inputShape: o.inputShape } : {});
      const ks = kernels(graph, o.runtime);
      const shape = (s: readonly number[]) => (s.length === 0 ? '-' : s.join('x'));
      emit(Boolean(o.json), { model, runtime: o.runtime, nodes: graph.nodes.length, kernels: ks }, () =>
        [
          `${model}: ${graph.nodes.length} nodes run as ${ks.length} kernels on ${o.runtime}`,
          table(
            ['#', 'kernel', 'activation', 'inputs', 'output', 'covers'],
            ks.map((k, i) => [i + 1, k.op, String(k.attrs.activation ?? ''), k.inputs.map(shape).join(' '), k.outputs.map(shape).join(' '), k.nodes.length]),
          ),
        ].join('\n'),
      );
    });
  return onnx;
}
