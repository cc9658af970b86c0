// Does the profiler measure latency as the field does? For each space, sampled networks are
// profiled as the agent profiles them (interleaved rounds, warm bursts, calibration and anchor),
// and right after, in the same process, each network's ONNX file is timed the way nn-Meter and
// TFLite's benchmark tool time it: warm-up runs, then consecutive runs, median. The machine's speed
// drifts between the two (it swung 0.85–1.40× within a pass here), so the whole is repeated
// --reps times and each network's ratio stored / consecutive is the median over repetitions.
// Prints per space the median and p90 over networks of |ratio − 1|, the signed median, and the
// same for the cold first-run figure (what the harness stored before warm bursts).
//
//   npx tsx scripts/bench/warm-agreement.ts [--spaces fbnet,nasbench201,proxyless-mobile] [--networks 12] [--reps 3] [--threads 1] [--json]
import { parseArgs } from 'node:util';
import { quantile } from 'simple-statistics';
import { createBackend, networkItems, profileItems, type LoadedModel } from '../../agent/index.ts';
import { getSpace, sampleArchs } from '../../ops-library/index.ts';

const { values: args } = parseArgs({
  options: {
    spaces: { type: 'string', default: 'fbnet,nasbench201,proxyless-mobile' },
    networks: { type: 'string', default: '12' },
    threads: { type: 'string', default: '1' },
    consecutive: { type: 'string', default: '40' },
    reps: { type: 'string', default: '3' },
    burst: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

/** nn-Meter / TFLite benchmark style: `warmup` untimed runs, then `n` consecutive timed runs; the median. */
async function consecutiveMedian(model: LoadedModel, n: number, warmup = 10): Promise<number> {
  for (let i = 0; i < warmup; i++) await model.run();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await model.run();
    xs.push(performance.now() - t0);
  }
  return quantile(xs, 0.5);
}

const backend = await createBackend('ort-node', { threads: Number(args.threads) });
const rows: Array<Record<string, unknown>> = [];
const reps = Number(args.reps);
try {
  for (const name of args.spaces.split(',')) {
    const space = getSpace(name);
    const items = networkItems(space, sampleArchs(space, { count: Number(args.networks), seed: 2027 }));
    const t0 = performance.now();
    // per network and repetition: stored / consecutive (warm burst) and cold / consecutive
    const warmRatios: number[][] = items.map(() => []);
    const coldRatios: number[][] = items.map(() => []);
    const medians: number[] = [];
    let nonClean = 0;
    for (let rep = 0; rep < reps; rep++) {
      const { measurements } = await profileItems(items, { backend, deviceId: 'dev-bench0000000', passId: `pass-warm-agreement-${rep}`, minTimeMs: 100, ...(args.burst ? { burst: Number(args.burst) } : {}) });
      nonClean += measurements.filter((m) => (m.quality?.verdict ?? 'clean') !== 'clean').length;
      for (const [i, item] of items.entries()) {
        const model = await backend.load(item.model(1));
        try {
          const ref = await consecutiveMedian(model, Number(args.consecutive));
          const m = measurements[i]!;
          warmRatios[i]!.push(m.stats.median / ref);
          if (m.cold) coldRatios[i]!.push(m.cold.median / ref);
          if (rep === 0) medians.push(m.stats.median);
        } finally {
          await model.dispose();
        }
      }
    }
    // each network's median ratio over the repetitions: drift between the profile and the timing
    // after it goes both ways across repetitions
    const perNet = (xs: number[][]) => xs.filter((x) => x.length > 0).map((x) => quantile(x, 0.5));
    const warm = perNet(warmRatios);
    const cold = perNet(coldRatios);
    const abs = (xs: number[]) => xs.map((x) => Math.abs(x - 1));
    rows.push({
      space: name,
      networks: items.length,
      reps,
      medianLatencyMs: quantile(medians, 0.5),
      warmMedianErr: quantile(abs(warm), 0.5),
      warmP90Err: quantile(abs(warm), 0.9),
      warmSignedMedian: quantile(warm, 0.5) - 1,
      coldMedianErr: cold.length ? quantile(abs(cold), 0.5) : null,
      coldSignedMedian: cold.length ? quantile(cold, 0.5) - 1 : null,
      nonClean,
      seconds: (performance.now() - t0) / 1000,
    });
    process.stderr.write(`${name}: done\n`);
  }
} finally {
  await backend.dispose();
}
if (args.json) console.log(JSON.stringify(rows, null, 2));
else {
  const pct = (x: unknown) => (typeof x === 'number' ? `${(100 * x).toFixed(1)}%` : '–');
  console.log('space | networks × reps | median ms | stored (warm) / consecutive: |median−1| / p90 / signed | cold first run / consecutive: |median−1| / signed | non-clean');
  for (const r of rows) {
    console.log(`${r.space} | ${r.networks} × ${r.reps} | ${(r.medianLatencyMs as number).toFixed(3)} | ${pct(r.warmMedianErr)} / ${pct(r.warmP90Err)} / ${pct(r.warmSignedMedian)} | ${pct(r.coldMedianErr)} / ${pct(r.coldSignedMedian)} | ${r.nonClean}`);
  }
}
