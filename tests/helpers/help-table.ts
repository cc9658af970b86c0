import { existsSync, readFileSync } from 'node:fs';
import { SHARED_DATA } from './data.ts';

/** A HELP latency table: devices, and per device the ms of every architecture (file order). */
export interface HelpTable {
  ids: string[];
  archs: string[];
  devices: string[];
  ms: Float64Array[];
}

/** Reads the shared HELP archs and latencies of a space, or null when the data is absent. */
export function readHelpTable(space: 'fbnet' | 'nasbench201'): HelpTable | null {
  const dir = `${SHARED_DATA}help-latency/${space}/`;
  if (!existsSync(`${dir}archs.csv`) || !existsSync(`${dir}latency.csv`)) return null;
  const archLines = readFileSync(`${dir}archs.csv`, 'utf8').trim().split(/\r?\n/).slice(1);
  const ids = archLines.map((l) => l.slice(0, l.indexOf(',')));
  const archs = archLines.map((l) => l.slice(l.indexOf(',') + 1).trim());
  const lat = readFileSync(`${dir}latency.csv`, 'utf8').trim().split(/\r?\n/);
  const devices = (lat[0] as string).split(',').slice(1);
  const ms = devices.map(() => new Float64Array(ids.length));
  const pos = new Map(ids.map((id, i) => [id, i]));
  for (const line of lat.slice(1)) {
    const cells = line.split(',');
    const i = pos.get(cells[0] as string) as number;
    devices.forEach((_, d) => ((ms[d] as Float64Array)[i] = Number(cells[d + 1])));
  }
  return { ids, archs, devices, ms };
}
