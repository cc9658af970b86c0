// Does the profiler measure latency as the field does? For each space, sampled networks are
// profiled as the agent profiles them (interleaved rounds, warm bursts, calibration and anchor),
// and right after, in the same process, each network's ONNX file is timed the way nn-Meter and
// TFLite's benchmark tool time it: warm-up runs, then consecutive runs, median. Prints per space
// the median and p90 of |stored − consecutive| / consecutive, and the same for the cold first-run
// figure (what the harness stored before warm bursts).
//
//   npx tsx scripts/bench/warm-agreement.ts [--spaces fbnet,nasbench201,proxyless-mobile] [--networks 12] [--threads 1] [--json]
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
try {
  for (const name of args.spaces.split(',')) {
    const space = getSpace(name);
    const items = networkItems(space, sampleArchs(space, { count: Number(args.networks), seed: 2027 }));
    const t0 = performance.now();
    const { measurements } = await profileItems(items, { backend, deviceId: 'dev-bench0000000', passId: 'pass-warm-agreement', minTimeMs: 100 });
    const warm: number[] = [];
    const cold: number[] = [];
    for (const [i, item] of items.entries()) {
      const model = await backend.load(item.model(1));
      try {
        const ref = await consecutiveMedian(model, Number(args.consecutive));
        const m = measurements[i]!;
        warm.push(Math.abs(m.stats.median - ref) / ref);
        if (m.cold) cold.push(Math.abs(m.cold.median - ref) / ref);
      } finally {
        await model.dispose();
      }
    }
    const med = measurements.map((m) => m.stats.median);
    rows.push({
      space: name,
      networks: items.length,
      medianLatencyMs: quantile(med, 0.5),
      warmMedianErr: quantile(warm, 0.5),
      warmP90Err: quantile(warm, 0.9),
      coldMedianErr: cold.length ? quantile(cold, 0.5) : null,
      coldP90Err: cold.length ? quantile(cold, 0.9) : null,
      verdicts: measurements.map((m) => m.quality?.verdict ?? 'clean').filter((v) => v !== 'clean').length,
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
  console.log('space | networks | median ms | stored warm vs consecutive: median / p90 | cold first run vs consecutive: median / p90 | non-clean');
  for (const r of rows) {
    console.log(`${r.space} | ${r.networks} | ${(r.medianLatencyMs as number).toFixed(3)} | ${pct(r.warmMedianErr)} / ${pct(r.warmP90Err)} | ${pct(r.coldMedianErr)} / ${pct(r.coldP90Err)} | ${r.verdicts}`);
  }
}
