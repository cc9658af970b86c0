// Reproducibility of `hwlat profile`: the same networks profiled by two separate processes some
// minutes apart. Prints the median over networks of |a−b|/a raw, after normalising each
// measurement by its group's calibration, and after removing one machine-wide scale factor.
// With --load F, both passes run under scripts/bench/background-load.ts at F × the cores (the
// disturbed measurements are then reported and left out of the comparison, as training does).
//
//   npx tsx scripts/bench/reproducibility.ts [--space fbnet] [--networks 20] [--gap 120] [--load 1.5] [--json]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { quantile } from 'simple-statistics';
import { availableParallelism } from 'node:os';
import { openStore } from '../../collector/index.ts';
import { isUsable, summariseQuality } from '../../conditions/index.ts';
import { startBackgroundLoad, type BackgroundLoad } from './background-load.ts';

const { values: args } = parseArgs({
  options: {
    space: { type: 'string', default: 'fbnet' },
    networks: { type: 'string', default: '20' },
    gap: { type: 'string', default: '120' },
    threads: { type: 'string', default: '1' },
    repeats: { type: 'string', default: '20' },
    'min-time': { type: 'string', default: '300' },
    load: { type: 'string' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});

const dir = mkdtempSync(join(tmpdir(), 'hwlat-repro-'));
const db = join(dir, 'repro.sqlite');
const bin = new URL('../../bin/hwlat.js', import.meta.url).pathname;

function profile(): { passId: string; seconds: number } {
  const t0 = Date.now();
  const out = execFileSync(process.execPath, [
    bin, 'profile', '--space', args.space, '--networks', args.networks, '--db', db, '--seed', '1',
    '--threads', args.threads, '--repeats', args.repeats, '--min-time', args['min-time'], '--json',
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return { passId: JSON.parse(out).passId as string, seconds: (Date.now() - t0) / 1000 };
}

const loadProcesses = args.load ? Math.ceil(Number(args.load) * availableParallelism()) : 0;
const underLoad = async <T>(fn: () => T): Promise<T> => {
  if (loadProcesses === 0) return fn();
  const load: BackgroundLoad = await startBackgroundLoad({ processes: loadProcesses - 1, ort: true, seed: args.seed, durationMs: 3600_000 });
  try {
    return fn();
  } finally {
    await load.stop();
  }
};
const a = await underLoad(profile);
process.stderr.write(`pass A done in ${a.seconds.toFixed(0)} s; waiting ${args.gap} s\n`);
await new Promise((r) => setTimeout(r, Number(args.gap) * 1000));
const b = await underLoad(profile);

const store = openStore({ path: db });
const ms = await store.listMeasurements({ level: 'network' });
const passA = await store.getPass(a.passId);
const passB = await store.getPass(b.passId);
await store.close();
rmSync(dir, { recursive: true, force: true });

const quality = [a.passId, b.passId].map((id) => summariseQuality(ms.filter((m) => m.passId === id)).text);
const byKey = (passId: string) => new Map(ms.filter((m) => m.passId === passId && isUsable(m)).map((m) => [m.key, m]));
const A = byKey(a.passId);
const B = byKey(b.passId);
const pairs = [...A.keys()].filter((k) => B.has(k)).map((k) => [A.get(k)!, B.get(k)!] as const);

const rel = (xs: Array<[number, number]>) => xs.map(([x, y]) => Math.abs(x - y) / x);
const summarise = (errs: number[]) => ({ median: quantile(errs, 0.5), p90: quantile(errs, 0.9), max: Math.max(...errs) });
const raw = pairs.map(([x, y]): [number, number] => [x.stats.median, y.stats.median]);
const cal = pairs.map(([x, y]): [number, number] => [x.stats.median / x.calibrationMs!, y.stats.median / y.calibrationMs!]);
const scale = quantile(raw.map(([x, y]) => y / x), 0.5);
const scaled = raw.map(([x, y]): [number, number] => [x, y / scale]);

const result = {
  space: args.space,
  networks: pairs.length,
  gapSeconds: Number(args.gap),
  loadProcesses,
  quality,
  passSeconds: [a.seconds, b.seconds],
  passCalibrationMs: [passA?.calibrationMs, passB?.calibrationMs],
  machineScaleBtoA: scale,
  raw: summarise(rel(raw)),
  calibrated: summarise(rel(cal)),
  oneScaleRemoved: summarise(rel(scaled)),
};

if (args.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(`${pairs.length} ${args.space} networks, two processes ${args.gap} s apart (passes took ${a.seconds.toFixed(0)} s, ${b.seconds.toFixed(0)} s)`);
  console.log(`pass calibration: ${passA?.calibrationMs?.toFixed(4)} ms vs ${passB?.calibrationMs?.toFixed(4)} ms; median B/A latency ratio ${scale.toFixed(3)}`);
  console.log(`load: ${loadProcesses ? `${loadProcesses} processes` : 'none'}; quality A: ${quality[0]}; B: ${quality[1]}`);
  console.log('|a-b|/a over networks      median    p90     max');
  for (const [name, s] of [['raw', result.raw], ['calibration-normalised', result.calibrated], ['one scale removed', result.oneScaleRemoved]] as const) {
    console.log(`${name.padEnd(26)}${pct(s.median).padStart(6)}  ${pct(s.p90).padStart(6)}  ${pct(s.max).padStart(6)}`);
  }
}
