// Predictor accuracy on this machine: profile each space (op LUT + networks, pass A), profile other
// networks in a later process (pass B), then `hwlat eval` (trained on ≤500 pass-A networks; tested
// on unseen pass-A networks and on pass-B networks after calibration normalisation).
//
//   npx tsx scripts/bench/accuracy.ts [--db FILE (reuse)] [--spaces fbnet,nasbench201,proxyless-mobile]
//                                     [--networks 600] [--cross 200] [--reports DIR] [--json]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    spaces: { type: 'string', default: 'fbnet,nasbench201,proxyless-mobile' },
    networks: { type: 'string', default: '600' },
    cross: { type: 'string', default: '200' },
    reports: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const bin = new URL('../../bin/hwlat.js', import.meta.url).pathname;
const hwlat = (...a: string[]) => execFileSync(process.execPath, [bin, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
const spaces = args.spaces.split(',');
const collect = !args.db || !existsSync(args.db);
const db = args.db ?? join(mkdtempSync(join(tmpdir(), 'hwlat-acc-')), 'acc.sqlite');

let deviceId = '';
if (collect) {
  for (const s of spaces) deviceId = JSON.parse(hwlat('profile', '--space', s, '--ops', '--networks', args.networks, '--seed', '0', '--db', db, '--json')).device.id;
  for (const s of spaces) hwlat('profile', '--space', s, '--networks', args.cross, '--seed', '1', '--db', db, '--json');
} else {
  deviceId = JSON.parse(hwlat('measurements', '--db', db, '--limit', '1', '--json')).devices[0].id;
}
if (args.reports) mkdirSync(args.reports, { recursive: true });

const results: any[] = [];
for (const s of spaces) {
  const extra = args.reports ? ['--report', join(args.reports, `${s}.html`)] : [];
  const r = JSON.parse(hwlat('eval', '--db', db, '--device', deviceId, '--space', s, '--json', ...extra));
  results.push(r);
}
if (args.json) console.log(JSON.stringify({ db, deviceId, results }, null, 2));
else {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(`device ${deviceId}, db ${db}`);
  console.log('space             split       train  test  predictor     ±10%    MAPE   Spearman  Kendall');
  for (const r of results) {
    for (const sp of r.splits) {
      for (const [kind, m] of Object.entries<any>(sp.metrics)) {
        console.log(`${r.space.padEnd(18)}${sp.split.padEnd(12)}${String(sp.trainNetworks).padStart(5)} ${String(sp.testNetworks).padStart(5)}  ${(kind + (kind === r.chosen ? ' *' : '')).padEnd(13)}${pct(m.within10).padStart(6)} ${pct(m.mape).padStart(7)}   ${m.spearman.toFixed(3)}    ${m.kendall.toFixed(3)}`);
      }
    }
  }
}
