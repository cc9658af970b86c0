// How the network measurements are put on one footing, compared on one database: by their
// group's anchor network (agent/anchors.ts; what training does when the measurements carry it)
// and by the calibration workload alone (calibration^β, β learned from the residuals; what it does
// for measurements without anchors). Same split and predictor as `hwlat eval`; composite ±10% and
// MAPE per split, and the anchor's fit against the calibration.
//
//   npx tsx scripts/bench/normalisation.ts --db acc.sqlite [--spaces fbnet,nasbench201,proxyless-mobile] [--device ID]
import { parseArgs } from 'node:util';
import { openStore, trainingData } from '../../collector/index.ts';
import { anchorFit, evaluatePredictors, networkSamples } from '../../predictor/index.ts';

const { values: args } = parseArgs({ options: { db: { type: 'string' }, spaces: { type: 'string', default: 'fbnet,nasbench201,proxyless-mobile' }, device: { type: 'string' } } });
if (!args.db) throw new TypeError("'--db' is required (e.g. scripts/bench/accuracy.ts's database)");
const store = openStore({ path: args.db });
const device = args.device ?? (await store.listDevices())[0]?.id;
if (!device) throw new RangeError(`'${args.db}' holds no device`);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log('| space | anchor fit | normalisation | β | same pass ±10% / MAPE | cross pass ±10% / MAPE |');
console.log('|---|---|---|---|---|---|');
for (const space of args.spaces.split(',')) {
  const data = await trainingData(store, device, space);
  const nets = await store.listMeasurements({ deviceId: device, level: 'network', space });
  const fit = anchorFit(nets, data.calibrationMs);
  const fitText = fit ? `${fit.groups} groups (${fit.rejected.size} anchors rejected), β ${fit.elasticity.toFixed(3)}, ${fit.refMs.toFixed(3)} ms at the reference` : 'no anchors';
  const variants = [['calibration^β', networkSamples(nets, data.calibrationMs), undefined] as const, ...(fit ? [['anchor', data.networks, data.anchorElasticity] as const] : [])];
  for (const [label, networks, anchorElasticity] of variants) {
    const ev = await evaluatePredictors({ ...data, networks, anchorElasticity, encodingBaseline: false });
    const cell = (split: string) => {
      const m = ev.splits.find((s) => s.split === split)?.metrics.composite;
      return m ? `${pct(m.within10)} / ${pct(m.mape)}` : '–';
    };
    console.log(`| ${space} | ${fitText} | ${label} | ${(ev.predictor.data.calibrationElasticity ?? 1).toFixed(3)} | ${cell('same-pass')} | ${cell('cross-pass')} |`);
  }
}
await store.close();
