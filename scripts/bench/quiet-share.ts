// How much of the time the load generator leaves a measurement undisturbed (issue 15's wall-time
// target): a single-threaded probe (a fixed arithmetic loop of about `--probe-ms`) runs back to back,
// first on the quiet machine, then under `background-load.ts` at `--load`× the cores. A probe is
// quiet when it takes at most `--tolerance` above the quiet median. The share of wall time spent in
// quiet probes bounds how fast any measurement that keeps only quiet rounds can finish under load.
//
//   npx tsx scripts/bench/quiet-share.ts [--seconds 120] [--load 1.5] [--probe-ms 5] [--tolerance 0.1] [--seed 1] [--json]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { median, quantile } from 'simple-statistics';
import { startBackgroundLoad } from './background-load.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    load: { type: 'string', default: '1.5' },
    'probe-ms': { type: 'string', default: '5' },
    tolerance: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const tolerance = Number(args.tolerance);
const say = (s: string) => process.stderr.write(`[quiet-share] ${s}\n`);

let sink = 0;
const spin = (n: number): void => {
  let x = sink;
  for (let i = 0; i < n; i++) x = (x * 1.000001 + i) % 1e9;
  sink = x;
};
// iterations for one probe of about --probe-ms on this machine, quiet (after the JIT has compiled the loop)
for (let i = 0; i < 20; i++) spin(100_000);
let iters = 100_000;
for (;;) {
  const t = performance.now();
  spin(iters);
  const ms = performance.now() - t;
  if (ms >= Number(args['probe-ms'])) break;
  iters *= 2;
}
/** probes back to back for `ms`: each probe's duration */
const probe = async (ms: number): Promise<number[]> => {
  const out: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    spin(iters);
    out.push(performance.now() - t);
    if (out.length % 50 === 0) await new Promise((r) => setImmediate(r)); // let IPC and timers run
  }
  return out;
};

say(`quiet: ${Math.min(seconds, 20)} s of probes of ${iters} iterations`);
const quiet = await probe(Math.min(seconds, 20) * 1000);
const base = median(quiet);
const cores = os.availableParallelism();
const processes = Math.ceil(Number(args.load) * cores);
say(`quiet probe median ${base.toFixed(3)} ms; now ${seconds} s under ${processes} load processes on ${cores} cores`);
const load = await startBackgroundLoad({ processes, seed: args.seed });
await new Promise((r) => setTimeout(r, 3000)); // the ORT process loads its model
const busy = await probe(seconds * 1000);
const stats = load.stats();
await load.stop();
const quietShare = (xs: number[], tol = tolerance) => {
  const total = xs.reduce((a, b) => a + b, 0);
  return xs.filter((x) => x <= base * (1 + tol)).reduce((a, b) => a + b, 0) / total;
};
/** the share of probe time within each tolerance, quiet and under load */
const byTolerance = Object.fromEntries([0.05, 0.1, 0.25, 0.5].map((t) => [String(t), { quiet: quietShare(quiet, t), underLoad: quietShare(busy, t) }]));
const result = {
  cores,
  processes,
  seed: args.seed,
  probeMs: base,
  tolerance,
  quiet: { probes: quiet.length, quietShare: quietShare(quiet), p90: quantile(quiet, 0.9) / base },
  underLoad: { probes: busy.length, quietShare: quietShare(busy), medianSlowdown: median(busy) / base, meanSlowdown: busy.reduce((a, b) => a + b, 0) / busy.length / base, loadBusyFraction: stats.busyFraction },
  byTolerance,
  loadAverage: os.loadavg()[0],
};
if (args.json) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`quiet machine: ${(100 * result.quiet.quietShare).toFixed(1)}% of probe time within +${100 * tolerance}% of the quiet median (${base.toFixed(2)} ms)`);
  console.log(
    `under load (${processes} processes on ${cores} cores, busy ${(100 * stats.busyFraction).toFixed(0)}% of the time): ${(100 * result.underLoad.quietShare).toFixed(1)}% quiet; median probe ${result.underLoad.medianSlowdown.toFixed(2)}× quiet`,
  );
  console.log(`so a measurement that keeps only quiet rounds needs about ${(result.quiet.quietShare / result.underLoad.quietShare).toFixed(2)}× its quiet time under this load (quiet share, quiet ÷ under load)`);
}
