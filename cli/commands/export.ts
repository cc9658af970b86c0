import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { initTf, PREDICTOR_KINDS, type PredictorKind } from '../../predictor/index.ts';
import { LatencyModel, latencyJson, latencyOnnx } from '../../predictor/differentiable/index.ts';
import { choiceOption, emit, numberOption } from '../output.ts';
import { examples } from '../help-examples.ts';
import { predictorOf } from '../predictor-dir.ts';

const EXPORT_FORMATS = Object.freeze(['onnx', 'json'] as const);
type ExportFormat = (typeof EXPORT_FORMATS)[number];

function write(path: string, bytes: Uint8Array | string): void {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new Error(`cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function exportCommand(): Command {
  return new Command('export')
    .description('export the differentiable expected-latency model of a predictor: ONNX (probs [layers, candidates] → latency_ms) or JSON (LUT matrix + correction weights + formula)')
    .requiredOption('--model <dir>', 'predictor directory (from `hwlat train`)')
    .requiredOption('--space <name>', "search space (must be the predictor's)")
    .requiredOption('--format <format>', `${EXPORT_FORMATS.join(' or ')}`, choiceOption('--format', EXPORT_FORMATS))
    .requiredOption('--out <file>', 'file to write')
    .option('--kind <kind>', `predictor kind: ${PREDICTOR_KINDS.join(', ')} (default: the trained default)`, choiceOption('--kind', PREDICTOR_KINDS))
    .option('--calibration <ms>', "the device's current calibration latency: export for its speed now", numberOption('--calibration', 0))
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      examples(
        'hwlat export --model models/fbnet --space fbnet --format onnx --out fbnet_latency.onnx',
        'hwlat export --model models/proxyless --space proxyless-mobile --format json --kind lut-sum --out proxyless_latency.json --json',
      ),
    )
    .action(async (o: { model: string; space: string; format: ExportFormat; out: string; kind?: PredictorKind; calibration?: number; json?: boolean }) => {
      await initTf();
      const predictor = await predictorOf(o.model, o.space);
      const model = LatencyModel.fromPredictor(predictor, { kind: o.kind, calibrationMs: o.calibration });
      const p = model.params;
      const bytes = o.format === 'onnx' ? latencyOnnx(p) : `${JSON.stringify(latencyJson(p))}\n`;
      write(o.out, bytes);
      const summary = { out: o.out, format: o.format, space: p.space, device: p.deviceId, kind: p.kind, form: p.form, layers: p.layers, candidates: p.candidates, bytes: bytes.length };
      emit(Boolean(o.json), summary, () =>
        `wrote ${o.out} (${o.format}, ${bytes.length} bytes): E[latency] of '${p.space}' on ${p.deviceId} by '${p.kind}', input probs [${p.layers}, ${p.candidates}]`);
    });
}
