import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { deviceKernelModel, kernelModelPredictionJson, predictionJson, predictorFor, trainingData, type TrainingData } from '../../collector/index.ts';
import { predictOnnxModel, runtimeRuleSet } from '../../predictor/onnx/index.ts';
import { getSpace } from '../../ops-library/index.ts';
import { insufficientCleanData } from '../../conditions/index.ts';
import { evalReportHtml, evaluatePredictors, loadPredictor, PREDICTOR_KINDS, savePredictor, type PredictorKind } from '../../predictor/index.ts';
import { choiceOption, emit, intOption, numberOption, progressBar, table } from '../output.ts';
import { archStrings, exampleArch, examples } from '../help-examples.ts';
import { chooseDevice, dbOption, openDb } from '../store-options.ts';

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);

function metricsRows(metrics: Partial<Record<PredictorKind, { within10: number; mape: number; rmse: number; spearman: number; kendall: number }>>, chosen?: string) {
  return PREDICTOR_KINDS.filter((k) => metrics[k]).map((k) => {
    const m = metrics[k]!;
    return [`${k}${k === chosen ? ' *' : ''}`, pct(m.within10), pct(m.mape), m.rmse.toFixed(3), m.spearman.toFixed(3), m.kendall.toFixed(3)];
  });
}
const METRIC_HEADER = ['predictor', '±10%', 'MAPE', 'RMSE ms', 'Spearman', 'Kendall'];

/** Reads `arch_id,arch` CSV (arch strings may contain '|' and '~' but no commas). */
function readArchCsv(path: string): Array<{ id: string; arch: string }> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.split(',').map((s) => s.trim());
  if (header?.[0] !== 'arch_id' || header?.[1] !== 'arch') throw new SyntaxError(`'${path}' must start with the header 'arch_id,arch', got '${lines[0] ?? ''}'`);
  return lines.slice(1).map((line, i) => {
    const comma = line.indexOf(',');
    if (comma < 0) throw new SyntaxError(`'${path}' line ${i + 2}: expected 'arch_id,arch'`);
    return { id: line.slice(0, comma).trim(), arch: line.slice(comma + 1).trim() };
  });
}

/** A device's calibration-normalised LUT and networks of a space, read from the database. */
async function readTrainingData(o: { db: string; device?: string; space: string }): Promise<TrainingData> {
  getSpace(o.space); // an unknown space fails before the database is opened
  const store = await openDb(o.db, { mustExist: true });
  try {
    return await trainingData(store, await chooseDevice(store, o), o.space);
  } finally {
    await store.close();
  }
}

export function trainCommand(): Command {
  return new Command('train')
    .description("train a device's latency predictor for a space from its LUT and network measurements")
    .addOption(dbOption({ creates: false }))
    .option('--device <id>', "device id (see `hwlat measurements`; default: the database's only device)")
    .requiredOption('--space <name>', 'search space')
    .requiredOption('--out <dir>', 'predictor directory to write')
    .option('--epochs <n>', 'training epochs of the MLPs (default: a fixed budget of gradient steps)', intOption('--epochs', 1))
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      examples(
        'hwlat train --space fbnet --out models/fbnet                  # hwlat.sqlite, its only device',
        'hwlat train --db lat.sqlite --device dev-0123456789ab --space proxyless-mobile --out models/proxyless --json',
      ),
    )
    .action(async (o: { db: string; device?: string; space: string; out: string; epochs?: number; json?: boolean }) => {
      const data = await readTrainingData(o);
      const bar = progressBar(`train ${o.space}`, 3);
      const predictor = await predictorFor(data, { epochs: o.epochs, onProgress: (stage, done) => bar.update(done, stage) }).finally(() => bar.stop());
      await savePredictor(predictor, o.out);
      const d = predictor.data;
      // disturbed measurements were left out; too little clean data gets no score, only the reason
      const insufficient = insufficientCleanData({ usable: data.networks.length, total: data.networkMeasurements });
      const quality = { ...data.quality, dropped: data.dropped };
      emit(Boolean(o.json), { out: o.out, device: d.deviceId, space: d.space, chosen: d.chosen, training: d.training, quality, insufficient, metrics: insufficient === null ? d.metrics : null }, () =>
        [
          `wrote ${o.out}: ${d.space} on ${d.deviceId}, default predictor '${d.chosen}'`,
          `trained on ${d.training.networks} networks (${d.training.passes.length} passes), LUT ${d.training.lutEntries} entries, ${d.training.regressorUnits} units from the kernel regressor, ${d.training.seconds.toFixed(1)} s`,
          `data: ${data.quality.text}` + (data.dropped.ops + data.dropped.networks > 0 ? `; left out as disturbed: ${data.dropped.networks} networks, ${data.dropped.ops} ops` : ''),
          insufficient !== null
            ? `no validation score: ${insufficient}`
            : d.training.validation > 0 ? `held-out validation (${d.training.validation} networks):\n${table(METRIC_HEADER, metricsRows(d.metrics, d.chosen))}` : '(too few networks to hold any out)',
        ].join('\n'),
      );
    });
}

interface PredictFlags {
  model?: string;
  space?: string;
  arch?: string;
  archs?: string;
  out?: string;
  kind?: PredictorKind;
  calibration?: number;
  json?: boolean;
  onnx?: string;
  device?: string;
  db: string;
  inputShape?: string;
  strict?: boolean;
  kernelRegressor: string;
}

/** '1x3x224x224' → [1, 3, 224, 224] */
function parseShape(text: string): number[] {
  const dims = text.split(/[x,×]/).map((d) => Number(d.trim()));
  if (dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d < 1)) throw new RangeError(`'--input-shape' must look like 1x3x224x224 (positive integers), got '${text}'`);
  return dims;
}

async function predictOnnxFile(o: PredictFlags): Promise<void> {
  if (o.arch !== undefined || o.archs !== undefined) throw new TypeError("'--onnx' predicts one model file: leave out '--arch'/'--archs'");
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(o.onnx as string));
  } catch (e) {
    throw new Error(`cannot read '${o.onnx}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const store = await openDb(o.db, { mustExist: true });
  try {
    const device = await store.getDevice(await chooseDevice(store, o));
    if (!device) throw new Error(`internal: device listed but not found in '${o.db}'`);
    const runtime = runtimeRuleSet(device.runtime);
    const model = await deviceKernelModel(store, device.id, { kind: o.kernelRegressor });
    const p = predictOnnxModel(bytes, model, { runtime, strict: o.strict, ...(o.inputShape ? { inputShape: parseShape(o.inputShape) } : {}) });
    // the fields of POST /api/predict/onnx, by the same function
    const json = { model: o.onnx, device: device.id, runtime, kind: 'kernel-model', ...kernelModelPredictionJson(p) };
    emit(Boolean(o.json), json, () => {
      const count = (s: string) => p.kernels.filter((k) => k.source === s).length;
      return [
        `${p.ms.toFixed(3)} ms on ${device.id} (${runtime}): ${p.kernels.length} kernels ${p.kernelSumMs.toFixed(3)} ms + overhead ${p.overheadMs.toFixed(3)} ms; ` +
          `${count('measured')} timed on the device, ${count('regressor')} by their type's regressor, ${count('fallback')} by a fallback` +
          (p.context.mode === 'none' ? '' : `; campaign samples carried into networks by ${Object.entries(p.context.factors).map(([k, f]) => `×${f.toFixed(3)} (${k})`).slice(0, 3).join(', ')}`),
        table(['kernel', 'nodes', 'ms', 'source'], p.kernels.map((k) => [k.type, k.nodes.length > 2 ? `${k.nodes.slice(0, 2).join(', ')}, …` : k.nodes.join(', '), k.ms.toFixed(4), k.model && k.source !== 'measured' ? `${k.source} (${k.model})` : k.source])),
        ...(p.unmapped.length > 0
          ? [`not mapped (priced by the all-kernels fallback; --strict refuses): ${p.unmapped.map((u) => `${u.op} ${(100 * u.macsShare).toFixed(1)}% of MACs`).join('; ')}`]
          : []),
      ].join('\n');
    });
  } finally {
    await store.close();
  }
}

export function predictCommand(): Command {
  return new Command('predict')
    .description('predict the latency of an architecture (--arch) or a CSV of them (--archs) with a trained predictor, or of any ONNX model (--onnx) on a device')
    .option('--model <dir>', 'predictor directory (from `hwlat train`), for --arch/--archs')
    .option('--onnx <file>', "any ONNX model (a torchvision export, a pruned net; weights may be stripped with 'hwlat onnx strip'): predicted kernel by kernel for --device from --db")
    .option('--device <id>', "device id (with --onnx; default: the database's only device)")
    .addOption(dbOption({ creates: false, about: "SQLite database holding the device's kernels timed in context (with --onnx)" }))
    .option('--input-shape <NxCxHxW>', "concrete input shape for a model with symbolic dimensions, e.g. '1x3x224x224' (with --onnx)")
    .option('--strict', 'fail when a kernel is of a type the device never timed, instead of listing it (with --onnx)')
    .option('--kernel-regressor <kind>', 'per-kernel-type regressor: random-forest or log-linear (with --onnx)', 'random-forest')
    .option('--space <name>', "search space (must be the predictor's)")
    .option('--arch <string>', 'one architecture string')
    .option('--archs <csv>', "CSV with 'arch_id,arch'")
    .option('--out <csv>', "where to write 'arch_id,latency_ms' (with --archs)")
    .option('--kind <kind>', `predictor kind: ${PREDICTOR_KINDS.join(', ')} (default: the trained default)`, choiceOption('--kind', PREDICTOR_KINDS))
    .option('--calibration <ms>', "the device's current calibration latency: predict for its speed now", numberOption('--calibration', 0))
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      examples(
        `hwlat predict --model models/fbnet --arch '${exampleArch('fbnet')}'`,
        'hwlat predict --model models/fbnet --archs archs.csv --out latency.csv',
        'hwlat predict --onnx resnet18.onnx                              # hwlat.sqlite, its only device',
        'hwlat predict --onnx model.onnx --input-shape 1x3x224x224 --device dev-1a2b3c4d5e6f --db lat.sqlite --strict --json',
      ) + archStrings(),
    )
    .action(async (o: PredictFlags) => {
      if (o.onnx !== undefined) return predictOnnxFile(o);
      if (o.model === undefined) throw new TypeError("'--model <dir>' is required with --arch/--archs (or pass --onnx FILE, with --device ID and --db FILE unless hwlat.sqlite holds one device)");
      const predictor = await loadPredictor(o.model);
      if (o.space !== undefined && o.space !== predictor.data.space) {
        throw new RangeError(`'--space ${o.space}' does not match the predictor's space '${predictor.data.space}'`);
      }
      const opts = { kind: o.kind, calibrationMs: o.calibration };
      if (o.arch !== undefined) {
        const p = predictor.predict(o.arch, opts);
        // the fields of POST /api/predict, by the same function; `predictor` says where it came from
        const d = predictor.data;
        const json = {
          device: predictor.deviceId, space: p.space, ...predictionJson(p),
          predictor: { source: 'directory', dir: o.model, created_at: d.createdAt, networks: d.training.networks }, breakdown: p.breakdown,
        };
        emit(Boolean(o.json), json, () =>
          [
            `${p.ms.toFixed(3)} ms (${p.low.toFixed(3)}–${p.high.toFixed(3)}) by '${p.kind}' on ${predictor.deviceId}; LUT sum ${p.lutSumMs.toFixed(3)} ms`,
            table(['position', 'choice', 'ms', 'source', 'key'], p.breakdown.map((b) => [b.position, b.choice ?? '', b.ms.toFixed(4), b.source, b.key])),
          ].join('\n'),
        );
      } else if (o.archs !== undefined) {
        const rows = readArchCsv(o.archs);
        const ms = predictor.predictBatch(rows.map((r) => r.arch), opts);
        const csv = `arch_id,latency_ms\n${rows.map((r, i) => `${r.id},${(ms[i] as number).toFixed(5)}`).join('\n')}\n`;
        if (o.out) {
          try {
            writeFileSync(o.out, csv);
          } catch (e) {
            throw new Error(`cannot write '${o.out}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
          }
        }
        emit(Boolean(o.json), { predicted: rows.length, out: o.out ?? null }, () => (o.out ? `wrote ${rows.length} predictions to ${o.out}` : csv.trimEnd()));
      } else {
        throw new TypeError("one of '--arch' or '--archs' is required");
      }
    });
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('accuracy of every predictor kind on held-out networks: same pass and other passes')
    .addOption(dbOption({ creates: false }))
    .option('--device <id>', "device id (see `hwlat measurements`; default: the database's only device)")
    .requiredOption('--space <name>', 'search space')
    .option('--max-train <n>', 'at most this many training networks', intOption('--max-train', 2), 500)
    .option('--epochs <n>', 'training epochs of the MLPs (default: a fixed budget of gradient steps)', intOption('--epochs', 1))
    .option('--report <html>', 'write an HTML report with plots')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      examples(
        'hwlat eval --space fbnet                                        # hwlat.sqlite, its only device',
        'hwlat eval --db lat.sqlite --device dev-0123456789ab --space nasbench201 --max-train 200 --report eval.html --json',
      ),
    )
    .action(async (o: { db: string; device?: string; space: string; maxTrain: number; epochs?: number; report?: string; json?: boolean }) => {
      const data = await readTrainingData(o);
      const quality = { ...data.quality, dropped: data.dropped };
      const dropped = data.dropped.ops + data.dropped.networks > 0 ? `; left out as disturbed: ${data.dropped.networks} networks, ${data.dropped.ops} ops` : '';
      // a score from too little clean data would look like a verdict on the predictor: say so instead
      const insufficient = insufficientCleanData({ usable: data.networks.length, total: data.networkMeasurements });
      if (insufficient !== null) {
        emit(Boolean(o.json), { device: data.deviceId, space: data.space.name, insufficient, quality, splits: [] }, () =>
          `${data.space.name} on ${data.deviceId}: no score — ${insufficient}\ndata: ${data.quality.text}${dropped}`);
        return;
      }
      if (data.networks.length < 4) throw new RangeError(`eval needs network measurements of '${o.space}' on '${data.deviceId}', found ${data.networks.length}`);
      const bar = progressBar(`eval ${o.space}`, 3);
      const report = await evaluatePredictors({ ...data, maxTrain: o.maxTrain, epochs: o.epochs, onProgress: (stage, done) => bar.update(done, stage) }).finally(() => bar.stop());
      if (o.report) writeFileSync(o.report, await evalReportHtml(report));
      // how the networks were put on one footing: by their space's anchor network where every
      // one of them carried its group's figure, else (partly) by the calibration workload
      const anchored = data.networks.filter((n) => n.anchorMs).length;
      const normalisation = anchored === data.networks.length ? 'anchor' : anchored === 0 ? 'calibration' : 'mixed';
      // `device` and `calibration_ms` as the API names them (the dashboard's accuracy view, POST /api/predict)
      const out = { device: report.deviceId, space: report.space, quality, calibration_ms: report.calibrationMs, calibrationElasticity: report.predictor.data.calibrationElasticity ?? 1, normalisation, lutEntries: report.lutEntries, chosen: report.predictor.data.chosen, splits: report.splits.map(({ points: _p, ...s }) => s), report: o.report ?? null };
      emit(Boolean(o.json), out, () =>
        [
          `${report.space} on ${report.deviceId}: LUT ${report.lutEntries} entries, reference calibration ${report.calibrationMs?.toFixed(4) ?? 'none'} ms, calibration elasticity β ${(report.predictor.data.calibrationElasticity ?? 1).toFixed(3)}, networks normalised by ${normalisation === 'mixed' ? `anchor (${anchored}) and calibration (${data.networks.length - anchored})` : normalisation === 'anchor' ? 'their anchor network' : 'the calibration workload'}`,
          `data: ${data.quality.text}${dropped}`,
          ...report.splits.map((s) => `\n${s.split}: trained on ${s.trainNetworks}, tested on ${s.testNetworks} unseen networks\n${table(METRIC_HEADER, metricsRows(s.metrics, report.predictor.data.chosen))}`),
          o.report ? `\nreport: ${o.report}` : '',
        ].join('\n'),
      );
    });
}
