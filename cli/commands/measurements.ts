import { Command } from 'commander';
import type { DeviceSummary } from '../../collector/index.ts';
import { summariseQuality } from '../../conditions/index.ts';
import type { MeasurementLevel } from '../../protocol/index.ts';
import { emit, intOption, table } from '../output.ts';
import { examples } from '../help-examples.ts';
import { dbOption, openDb } from '../store-options.ts';

export function measurementsCommand(): Command {
  return new Command('measurements')
    .description('list stored measurements (and the devices they belong to)')
    .addOption(dbOption({ creates: false }))
    .option('--device <id>', 'only this device')
    .option('--level <level>', "'op' or 'network'")
    .option('--space <name>', 'only this space')
    .option('--limit <n>', 'at most this many rows', intOption('--limit', 1))
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('hwlat measurements                     # hwlat.sqlite', 'hwlat measurements --db lat.sqlite --device dev-0123456789ab --level network --space fbnet --limit 20 --json'))
    .action(async (o: { db: string; device?: string; level?: string; space?: string; limit?: number; json?: boolean }) => {
      if (o.level !== undefined && o.level !== 'op' && o.level !== 'network') {
        throw new RangeError(`'--level' must be 'op' or 'network', got '${o.level}'`);
      }
      const store = await openDb(o.db, { mustExist: true });
      try {
        const filter = { deviceId: o.device, level: o.level as MeasurementLevel | undefined, space: o.space, limit: o.limit };
        const rows = await store.listMeasurements(filter);
        // each device's data quality in one line (disturbed measurements are listed but never trained on)
        const devices: Array<DeviceSummary & { quality: string }> = [];
        for (const d of await store.listDevices()) devices.push({ ...d, quality: summariseQuality(await store.listMeasurements({ deviceId: d.id })).text });
        const total = await store.countMeasurements({ ...filter, limit: undefined });
        emit(Boolean(o.json), { devices, total, measurements: rows }, () =>
          [
            table(['device', 'name', 'measurements', 'quality'], devices.map((d) => [d.id, d.name, d.measurements, d.quality])),
            '',
            table(
              ['device', 'level', 'space', 'median ms', 'p10', 'p90', 'cold ms', 'cv', 'quality', 'key'],
              rows.map((m) => [m.deviceId, m.level, m.space ?? '', m.stats.median.toFixed(4), m.stats.p10.toFixed(4), m.stats.p90.toFixed(4), m.cold ? m.cold.median.toFixed(4) : '-', m.stats.cv.toFixed(3), m.quality?.verdict ?? 'clean', m.key]),
            ),
          ].join('\n'),
        );
      } finally {
        await store.close();
      }
    });
}
