// How far an uploaded ONNX model's kernel sum (POST /api/predict/onnx: decomposeOnnx + LUT +
// per-kernel regressors, no network-level correction) is from the measured latency, next to the
// arch-string predictor of the same device and space. Profiles the space's LUT and networks on
// this machine (one pass, onnxruntime-node cpu, 1 thread) into a throwaway database, trains the
// predictor on `--networks`, and tests both paths on `--test` other networks.
//
//   npx tsx scripts/bench/onnx-kernel-sum.ts [--space nasbench201] [--networks 40] [--test 15] [--json]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';
import { CALIBRATION_KEY, createBackend, fingerprint, networkItems, opItems, profileItems } from '../../agent/index.ts';
import { openStore, predictorFor, trainingData } from '../../collector/index.ts';
import { buildOnnx, getSpace, lowerNetwork, sampleArchs, spaceUnits } from '../../ops-library/index.ts';
import { normalisedMs } from '../../predictor/index.ts';
import { predictOnnx } from '../../predictor/onnx/index.ts';

const { values: args } = parseArgs({
  options: {
    space: { type: 'string', default: 'nasbench201' },
    networks: { type: 'string', default: '40' },
    test: { type: 'string', default: '15' },
    json: { type: 'boolean', default: false },
  },
});
const space = getSpace(args.space);
const dir = mkdtempSync(join(tmpdir(), 'hwlat-onnx-bench-'));
const store = openStore({ path: join(dir, 'b.sqlite') });
const backend = await createBackend('ort-node', { threads: 1 });
try {
  const device = await fingerprint(backend.info);
  await store.upsertDevice(device);
  const train = sampleArchs(space, { count: Number(args.networks), seed: 0 });
  const test = sampleArchs(space, { count: Number(args.test), seed: 99 }).filter((a) => !train.includes(a));
  const passId = `pass-${randomUUID()}`;
  await store.startPass({ id: passId, deviceId: device.id, startedAt: new Date().toISOString(), finishedAt: null, calibrationKey: CALIBRATION_KEY, calibrationMs: null, calibrationTrace: [] });
  const r = await profileItems([...opItems(space.name, spaceUnits(space)), ...networkItems(space, [...train, ...test])], {
    backend, deviceId: device.id, passId, warmup: 3, minRepeats: 10, minTimeMs: 100,
    onMeasurements: async (ms) => {
      await store.insertMeasurements(ms);
    },
  });
  await store.finishPass(passId, { finishedAt: new Date().toISOString(), calibrationMs: r.calibrationMs, calibrationTrace: r.calibrationTrace });

  // train on the training networks only: drop the test networks from the data
  const data = await trainingData(store, device.id, space.name);
  const testSet = new Set(test.map((a) => space.format(space.parse(a))));
  const predictor = await predictorFor({ ...data, networks: data.networks.filter((n) => !testSet.has(n.arch)) }, { encodingBaseline: false });
  const measured = new Map((await store.listMeasurements({ deviceId: device.id, level: 'network', space: space.name })).map((m) => [m.key, normalisedMs(m, data.calibrationMs)]));
  const rows = test.map((arch) => {
    const key = space.format(space.parse(arch));
    const onnx = predictOnnx(predictor, buildOnnx(lowerNetwork(space.expand(arch))));
    return { arch: key, measured: measured.get(key) as number, onnx: onnx.ms, archPredicted: predictor.predict(key).ms, kernels: onnx.kernels.length, lutHits: onnx.lutHits };
  });
  const ratio = (f: (r: (typeof rows)[number]) => number) => median(rows.map((r) => f(r) / r.measured));
  const mape = (f: (r: (typeof rows)[number]) => number) => median(rows.map((r) => Math.abs(f(r) - r.measured) / r.measured));
  const summary = {
    space: space.name, trainNetworks: train.length, testNetworks: rows.length,
    medianKernels: median(rows.map((r) => r.kernels)), medianLutHits: median(rows.map((r) => r.lutHits)),
    onnxKernelSum: { medianRatio: ratio((r) => r.onnx), medianAbsError: mape((r) => r.onnx) },
    archPredictor: { kind: predictor.data.chosen, medianRatio: ratio((r) => r.archPredicted), medianAbsError: mape((r) => r.archPredicted) },
  };
  if (args.json) console.log(JSON.stringify({ ...summary, rows }, null, 1));
  else {
    console.log(`${space.name}: ${rows.length} test networks (trained on ${train.length}); ONNX graphs of ~${summary.medianKernels} kernels, ~${summary.medianLutHits} LUT hits each`);
    console.log(`  ONNX kernel sum       predicted/measured median ${summary.onnxKernelSum.medianRatio.toFixed(2)}×, median |error| ${(100 * summary.onnxKernelSum.medianAbsError).toFixed(1)}%`);
    console.log(`  arch-string (${summary.archPredictor.kind})  predicted/measured median ${summary.archPredictor.medianRatio.toFixed(2)}×, median |error| ${(100 * summary.archPredictor.medianAbsError).toFixed(1)}%`);
  }
} finally {
  await backend.dispose();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
