import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { importOnnx, stripOnnx } from '../../ops-library/index.ts';
import { emit } from '../output.ts';

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
  const onnx = new Command('onnx').description('ONNX models: strip weights for small uploads');
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
  return onnx;
}
