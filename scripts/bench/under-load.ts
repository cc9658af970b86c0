// `hwlat demo` on a busy machine, judged against networks measured on a quiet one.
//
// 1. Quiet: each demo device profiles held-out networks (`hwlat profile`, seed 9001, never in the
//    demo's campaign), and, unless --skip-quiet-demo, `hwlat demo --exit` runs once for its wall time.
// 2. Busy: scripts/bench/background-load.ts at --load × the cores (processes alternating busy and
//    idle phases of random lengths, plus an onnxruntime session), and `hwlat demo --exit` on a fresh
//    database under it.
// 3. Each busy-trained device predictor predicts the quiet held-out networks; each held-out figure
//    is normalised by its own group's anchor network against the busy database's anchor reference,
//    as `hwlat eval` scores a later pass (a pass's level moved +12% by its anchor and +4% by its
//    calibration; scored at their calibration the same predictions were 52.5% within ±10%). Prints ±10% / MAPE per device, the demo's note column, the wall times, and the
//    share of groups that were re-measured or stored disturbed.
//
//   npx tsx scripts/bench/under-load.ts [--dir D (a held-out db there is reused)] [--load 1.5] [--networks 200] [--heldout 40] [--seed 1] [--skip-quiet-demo] [--json]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../../collector/index.ts';
import { anchorFit, isUsable, referenceCalibration, summariseQuality } from '../../conditions/index.ts';
import { DEFAULT_DEMO_AGENTS, fitAgentsToCores } from '../../cli/demo/agents.ts';
import { loadPredictor } from '../../predictor/index.ts';
import { startBackgroundLoad } from './background-load.ts';

const { values: args } = parseArgs({
  options: {
    load: { type: 'string', default: '1.5' },
    networks: { type: 'string', default: '200' },
    heldout: { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
    // the demo's own default fleet on this machine (an agent needing more cores is left out)
    agents: { type: 'string', default: fitAgentsToCores(DEFAULT_DEMO_AGENTS, availableParallelism()).run.map((a) => `${a.backend}@${a.threads}`).join(',') },
    'skip-quiet-demo': { type: 'boolean', default: false },
    dir: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'hwlat-underload-'));
const bin = new URL('../../bin/hwlat.js', import.meta.url).pathname;
const say = (s: string) => process.stderr.write(`[under-load] ${s}\n`);

function hwlat(argv: string[]): string {
  return execFileSync(process.execPath, [bin, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
}

/** `hwlat demo --exit` as a child; resolves with its JSON summary and wall seconds. */
function demo(db: string, out: string): Promise<{ summary: DemoSummary; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'demo', '--exit', '--json', '--db', db, '--out', out, '--port', '0', '--networks', args.networks, '--agents', args.agents], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`hwlat demo exited ${code}`));
      resolve({ summary: JSON.parse(text) as DemoSummary, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

interface DemoSummary {
  devices: Array<{ label: string; deviceId: string | null; modelDir: string | null; error: string | null; metrics: { within10: number; mape: number } | null; quality: { text: string; verdict: string } | null }>;
}

const agentFlags = (spec: string): string[] => {
  const [backend, threads] = spec.split('@');
  return ['--backend', backend!, '--threads', threads ?? '1'];
};

// 1. quiet: held-out networks per device, and the quiet demo's wall time
const quietDb = join(dir, 'quiet-heldout.sqlite');
say(`quiet held-out networks (${args.heldout} per device) into ${quietDb}${existsSync(quietDb) ? ' (reused)' : ''}`);
for (const spec of existsSync(quietDb) ? [] : args.agents.split(',')) {
  hwlat(['profile', '--space', 'fbnet', '--networks', args.heldout, '--seed', '9001', '--db', quietDb, '--json', ...agentFlags(spec)]);
}
let quietDemoSeconds: number | null = null;
if (!args['skip-quiet-demo']) {
  say('quiet demo');
  quietDemoSeconds = (await demo(join(dir, 'quiet.sqlite'), join(dir, 'quiet-out'))).seconds;
  say(`quiet demo: ${quietDemoSeconds.toFixed(0)} s`);
}

// 2. busy
const processes = Math.ceil(Number(args.load) * availableParallelism());
say(`busy demo under ${processes} load processes (seed ${args.seed})`);
const load = await startBackgroundLoad({ processes: processes - 1, ort: true, seed: args.seed, durationMs: 3 * 3600_000 });
let busy: { summary: DemoSummary; seconds: number };
let loadStats;
try {
  busy = await demo(join(dir, 'busy.sqlite'), join(dir, 'busy-out'));
  loadStats = load.stats();
} finally {
  await load.stop();
}
say(`busy demo: ${busy.seconds.toFixed(0)} s`);

// 3. busy-trained predictors against quiet measurements
const quiet = openStore({ path: quietDb });
const busyStore = openStore({ path: join(dir, 'busy.sqlite') });
const rows = [];
for (const d of busy.summary.devices) {
  const heldout = d.deviceId ? await quiet.listMeasurements({ deviceId: d.deviceId, level: 'network', space: 'fbnet' }) : [];
  let within10: number | null = null;
  let mape: number | null = null;
  if (d.modelDir && heldout.length > 0) {
    const p = await loadPredictor(d.modelDir);
    const own = await busyStore.listMeasurements({ deviceId: d.deviceId! });
    const fit = anchorFit(own.filter((m) => m.level === 'network' && isUsable(m)), referenceCalibration(own));
    const errs = heldout.map((m) => {
      // at the reference: the held-out figure by its anchor when both sides have one, else the
      // prediction at the held-out group's calibration
      const anchored = fit && m.anchorMs ? (m.stats.median * fit.refMs) / m.anchorMs : null;
      const measured = anchored ?? m.stats.median;
      const pred = p.predict(m.key, anchored === null && m.calibrationMs ? { calibrationMs: m.calibrationMs } : {}).ms;
      return Math.abs(pred - measured) / measured;
    });
    within10 = errs.filter((e) => e <= 0.1).length / errs.length;
    mape = errs.reduce((a, b) => a + b, 0) / errs.length;
  }
  const q = d.deviceId ? summariseQuality(await busyStore.listMeasurements({ deviceId: d.deviceId })) : null;
  rows.push({
    agent: d.label, deviceId: d.deviceId, heldout: heldout.length, within10, mape,
    demoWithin10: d.metrics?.within10 ?? null, note: [d.error, d.quality?.verdict !== 'clean' ? d.quality?.text : null].filter(Boolean).join('; '),
    groups: q?.groups ?? 0, remeasuredGroups: q?.remeasuredGroups ?? 0, disturbedGroups: q?.disturbedGroups ?? 0,
    medianCv: q?.medianCv ?? null,
  });
}
await quiet.close();
await busyStore.close();

const result = {
  dir, processes, loadBusyFraction: loadStats?.busyFraction ?? null,
  quietDemoSeconds, busyDemoSeconds: busy.seconds, ratio: quietDemoSeconds ? busy.seconds / quietDemoSeconds : null, devices: rows,
};
if (args.json) console.log(JSON.stringify(result, null, 2));
else {
  const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
  console.log(`load: ${processes} processes (busy ${pct(result.loadBusyFraction)} of the time) on ${availableParallelism()} cores`);
  console.log(`demo wall time: quiet ${quietDemoSeconds?.toFixed(0) ?? '–'} s, busy ${busy.seconds.toFixed(0)} s${result.ratio ? ` (${result.ratio.toFixed(2)}×)` : ''}`);
  console.log('agent | held-out (quiet) | ±10% | MAPE | demo ±10% | groups re-measured / disturbed | median cv | note');
  for (const r of rows) {
    console.log(`${r.agent} | ${r.heldout} | ${pct(r.within10)} | ${pct(r.mape)} | ${pct(r.demoWithin10)} | ${r.remeasuredGroups} / ${r.disturbedGroups} of ${r.groups} | ${r.medianCv?.toFixed(3) ?? '–'} | ${r.note}`);
  }
  console.log(`data: ${dir}`);
}
