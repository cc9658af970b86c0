// Calibration elasticity: the same held-out evaluation as `hwlat eval`, once with every network's
// calibration figure withheld (β = 1: plain exponent-1 normalisation) and once with the learned β.
//
//   npx tsx scripts/bench/elasticity.ts --db acc.sqlite [--device ID] [--spaces fbnet,nasbench201,proxyless-mobile] [--json]
import { parseArgs } from 'node:util';
import { openStore, trainingData } from '../../collector/index.ts';
import { evaluatePredictors } from '../../predictor/index.ts';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    device: { type: 'string' },
    spaces: { type: 'string', default: 'fbnet,nasbench201,proxyless-mobile' },
    json: { type: 'boolean', default: false },
  },
});
if (!args.db) throw new TypeError("'--db' is required: a database with op and network measurements (e.g. scripts/bench/accuracy.ts's)");
const store = openStore({ path: args.db });
const rows: Array<Record<string, unknown>> = [];
try {
  const device = args.device ?? (await store.listDevices())[0]?.id;
  if (!device) throw new RangeError(`'${args.db}' holds no device`);
  for (const space of args.spaces.split(',')) {
    const data = await trainingData(store, device, space);
    for (const mode of ['beta=1', 'learned'] as const) {
      const networks = mode === 'beta=1' ? data.networks.map((n) => ({ ...n, calibrationMs: null })) : data.networks;
      const ev = await evaluatePredictors({ ...data, networks, encodingBaseline: false });
      const splits = Object.fromEntries(ev.splits.map((s) => [s.split, { n: s.testNetworks, within10: s.metrics.composite?.within10, mape: s.metrics.composite?.mape }]));
      rows.push({ space, mode, beta: ev.predictor.data.calibrationElasticity ?? 1, splits });
    }
  }
} finally {
  await store.close();
}
if (args.json) console.log(JSON.stringify(rows, null, 2));
else {
  const pct = (x: unknown) => (typeof x === 'number' ? `${(100 * x).toFixed(1)}%` : '–');
  console.log('space             mode      β      same pass ±10% / MAPE   cross pass ±10% / MAPE');
  for (const r of rows) {
    const s = r.splits as Record<string, { within10?: number; mape?: number }>;
    const cell = (k: string) => `${pct(s[k]?.within10)} / ${typeof s[k]?.mape === 'number' ? `${(100 * (s[k]?.mape as number)).toFixed(2)}%` : '–'}`;
    console.log(`${String(r.space).padEnd(18)}${String(r.mode).padEnd(10)}${(r.beta as number).toFixed(3)}  ${cell('same-pass').padEnd(24)} ${cell('cross-pass')}`);
  }
}
