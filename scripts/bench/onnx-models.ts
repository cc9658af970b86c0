// Any ONNX model: leave-one-model-out over torchvision classifiers exported by torch (issue 14).
//
// Each model is measured whole (the harness: warm bursts, profiler off, as the agents measure) and
// profiled (ORT's profiler: its kernels timed in context). For each model in turn, a kernel model
// (predictor/kernel-model) is trained on every *other* model's kernels (plus kernel-campaign
// samples with --samples), and predicts the held-out model from its kernels: the list ORT really
// ran (--kernels profiled, the predictor's own error) and/or the list kernel detection predicts
// from the imported graph (--kernels detected, the whole path a user gets). Its own timings are
// never used for its prediction.
//
//   npx tsx scripts/bench/onnx-models.ts [--models resnet18,…] [--kind random-forest|log-linear] [--context auto|none|any|type]
//        [--kernels profiled|detected|both] [--backend ort-node:cpu|ort-web:wasm] [--cache FILE.json] [--passes 2]
//        [--db FILE --device ID (kernel profiles stored there, e.g. by `hwlat kernels campaign`)] [--json]
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { quantile } from 'simple-statistics';
import { createBackend } from '../../agent/index.ts';
import { kernelTrainingProfiles, openStore } from '../../collector/index.ts';
import { measureOne } from '../../agent/harness/index.ts';
import { profileKernels } from '../../agent/backends/ort-kernels.ts';
import { profileKernelsWasm } from '../../agent/backends/ort-web-kernels.ts';
import { runtimeRuleSet } from '../../predictor/onnx/index.ts';
import { kernels } from '../../ops-library/kernels/index.ts';
import type { RuntimeKernel } from '../../ops-library/kernels/types.ts';
import { importOnnx } from '../../ops-library/onnx/import/index.ts';
import { trainKernelModel, type KernelContextMode, type KernelTrainingProfile } from '../../predictor/kernel-model/index.ts';
import { exportTorchvision, TORCHVISION_MODELS, torchUnavailable, type TorchvisionModel } from '../../tests/helpers/torchvision.ts';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: TORCHVISION_MODELS.join(',') },
    kind: { type: 'string', default: 'random-forest' },
    context: { type: 'string', default: 'auto' },
    kernels: { type: 'string', default: 'both' },
    backend: { type: 'string', default: 'ort-node:cpu' },
    threads: { type: 'string', default: '1' },
    db: { type: 'string' },
    device: { type: 'string' },
    cache: { type: 'string' },
    passes: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const say = (s: string) => process.stderr.write(`[onnx-models] ${s}\n`);
const missing = torchUnavailable();
if (missing) throw new Error(`torch is needed to export the models: ${missing}`);
const names = args.models.split(',') as TorchvisionModel[];
const files = exportTorchvision(names);

interface ModelData {
  name: string;
  measuredMs: number;
  cv: number;
  runMs: number;
  kernelSumMs: number;
  kernels: KernelTrainingProfile['kernels'];
  /** the highest 1-minute load average seen while it was measured */
  load?: number;
}

// measured whole and profiled in `--passes` passes over all models (contention on a shared machine
// comes in bursts; a pass spreads each model's timings over the run): per model, the pass with the
// lowest whole-model median and the profile with the lowest run time. --cache FILE keeps them.
let data: ModelData[] = [];
const cached: ModelData[] = args.cache ? (() => { try { return JSON.parse(readFileSync(args.cache, 'utf8')) as ModelData[]; } catch { return []; } })() : [];
const [backendName, provider] = args.backend.split(':') as [string, string];
const runtime = runtimeRuleSet({ backend: backendName, provider: provider ?? 'cpu' });
const backend = await createBackend(args.backend, { threads: Number(args.threads) });
const profile = (bytes: Uint8Array) =>
  runtime === 'ort-wasm' ? profileKernelsWasm(bytes, { threads: Number(args.threads), runs: 10, warmup: 3 }) : profileKernels(bytes, { threads: Number(args.threads), runs: 10, warmup: 3 });
const passes = Number(args.passes);
if (!Number.isInteger(passes) || passes < 1) throw new RangeError(`'--passes' must be a positive integer, got ${args.passes}`);
const todo = names.filter((name) => !cached.some((d) => d.name === name));
const best = new Map<string, ModelData>();
for (let pass = 1; pass <= passes; pass++) {
  for (const name of todo) {
    const bytes = new Uint8Array(readFileSync(files.get(name)!));
    const model = await backend.load(bytes);
    const r = await measureOne(model, { warmup: 3, minRepeats: 10, minTimeMs: 1000, burst: 8 });
    await model.dispose();
    const p = await profile(bytes);
    const load = loadavg()[0] as number;
    say(`pass ${pass}, ${name}: ${r.stats.median.toFixed(2)} ms (cv ${r.stats.cv.toFixed(3)}), ${p.kernels.length} kernels, Σ ${p.kernelSumMs.toFixed(2)} ms, run under the profiler ${p.runMs.toFixed(2)} ms, load ${load.toFixed(1)}`);
    const prev = best.get(name);
    const whole = !prev || r.stats.median < prev.measuredMs ? { measuredMs: r.stats.median, cv: r.stats.cv } : { measuredMs: prev.measuredMs, cv: prev.cv };
    const prof = !prev || p.runMs < prev.runMs ? { runMs: p.runMs, kernelSumMs: p.kernelSumMs, kernels: p.kernels } : { runMs: prev.runMs, kernelSumMs: prev.kernelSumMs, kernels: prev.kernels };
    best.set(name, { name, ...whole, ...prof, load: Math.max(load, prev?.load ?? 0) });
  }
}
for (const name of names) data.push(cached.find((d) => d.name === name) ?? best.get(name)!);
await backend.dispose();
if (args.cache) writeFileSync(args.cache, JSON.stringify(data));
data = data.filter((d) => names.includes(d.name as TorchvisionModel));
// kernel-campaign samples (and any other kernel profiles) of this device from a database
let samples: KernelTrainingProfile[] = [];
if (args.db) {
  if (!args.device) throw new Error(`'--db' needs '--device ID'`);
  const store = openStore({ path: args.db });
  samples = (await kernelTrainingProfiles(store, args.device)).map((p) => ({ ...p, measuredMs: null }));
  await store.close();
  say(`${samples.length} kernel profiles (${samples.reduce((a, p) => a + p.kernels.length, 0)} kernels) of ${args.device} from ${args.db}`);
}

// the whole path a user gets: import, then the runtime's rule set
const detect = args.kernels === 'profiled' ? null : (bytes: Uint8Array): RuntimeKernel[] => kernels(importOnnx(bytes), runtime);

const strip = (k: RuntimeKernel): RuntimeKernel => ({ op: k.op, attrs: k.attrs, inputs: k.inputs, outputs: k.outputs, nodes: k.nodes });
const rows: Array<Record<string, unknown>> = [];
for (const held of data) {
  const train: KernelTrainingProfile[] = [...data.filter((d) => d !== held).map((d) => ({ id: d.name, kernels: d.kernels, measuredMs: d.measuredMs })), ...samples];
  const model = trainKernelModel(train, { kind: args.kind, seed: 1, context: args.context as KernelContextMode });
  const row: Record<string, unknown> = { model: held.name, measuredMs: held.measuredMs, cv: held.cv, load: held.load ?? null, kernels: held.kernels.length, context: model.context.mode };
  const viaProfile = model.predict(held.kernels.map(strip));
  row.profiled = { ms: viaProfile.ms, error: viaProfile.ms / held.measuredMs - 1, measured: viaProfile.kernels.filter((k) => k.source === 'measured').length, fallback: viaProfile.kernels.filter((k) => k.source === 'fallback').length };
  if (detect) {
    try {
      const ks = detect(new Uint8Array(readFileSync(files.get(held.name as TorchvisionModel)!)));
      const viaDetect = model.predict(ks);
      row.detected = { ms: viaDetect.ms, error: viaDetect.ms / held.measuredMs - 1, kernels: ks.length };
    } catch (e) {
      row.detected = { error: null, failure: (e as Error).message.split('\n')[0] };
    }
  }
  rows.push(row);
}

const summary = (key: 'profiled' | 'detected') => {
  const errs = rows.map((r) => (r[key] as { error: number | null } | undefined)?.error).filter((e): e is number => typeof e === 'number');
  if (errs.length === 0) return null;
  const abs = errs.map(Math.abs);
  return { models: errs.length, within10: abs.filter((e) => e <= 0.1).length / abs.length, medianAbsError: quantile(abs, 0.5), maxAbsError: Math.max(...abs) };
};
const result = { backend: args.backend, runtime, kind: args.kind, context: args.context, threads: Number(args.threads), samples: samples.length, rows, profiled: summary('profiled'), detected: summary('detected') };
if (args.json) console.log(JSON.stringify(result, null, 2));
else {
  const pct = (x: number | null | undefined) => (typeof x === 'number' ? `${(100 * x).toFixed(1)}%` : '–');
  console.log(`${args.backend} (${runtime} rules), kernel regressor: ${args.kind}; ${samples.length} campaign samples; leave-one-model-out`);
  console.log('| model | measured ms (load) | kernels | samples in context | predicted (ORT\'s kernels) | error | measured/fallback kernels | predicted (detected) | error |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows as any[]) {
    console.log(`| ${r.model} | ${r.measuredMs.toFixed(2)} (${r.load === null ? '–' : r.load.toFixed(1)}) | ${r.kernels} | ${r.context} | ${r.profiled.ms.toFixed(2)} | ${pct(r.profiled.error)} | ${r.profiled.measured}/${r.profiled.fallback} | ${r.detected?.ms?.toFixed(2) ?? r.detected?.failure ?? '–'} | ${pct(r.detected?.error)} |`);
  }
  for (const k of ['profiled', 'detected'] as const) {
    const s = result[k];
    if (s) console.log(`${k}: ${s.models} models, ${pct(s.within10)} within ±10%, median |error| ${pct(s.medianAbsError)}, max ${pct(s.maxAbsError)}`);
  }
}
