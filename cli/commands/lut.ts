import { createHash } from 'node:crypto';
import { Command } from 'commander';
import { deviceLut } from '../../collector/index.ts';
import { isUsable } from '../../conditions/index.ts';
import {
  getLutFormat, listLutFormats, LUT_FORMATS, lutToMeasurements, readLutFile, specsOfSpace, unstoredEntries, writeLutFile,
} from '../../lut/index.ts';
import { getSpace, type SearchSpace } from '../../ops-library/index.ts';
import type { DeviceProfile } from '../../protocol/index.ts';
import { emit } from '../output.ts';
import { examples } from '../help-examples.ts';
import { chooseDevice, dbOption, openDb } from '../store-options.ts';

/** The calibration key of an imported pass: a foreign table has no calibration workload of ours. */
const IMPORTED_CALIBRATION_KEY = 'imported';

/**
 * The device an imported LUT is stored under. Its id derives from the name alone, so importing
 * tables under one name again lands on the same device; the runtime records which format it
 * came from, since nothing is known of the hardware.
 *
 * @example
 * importedDeviceProfile('pixel4-cpu', 'proxyless').id; // 'dev-' + 12 hex digits, the same every time
 */
export function importedDeviceProfile(name: string, format: string): DeviceProfile {
  if (typeof name !== 'string' || name.trim() === '') throw new TypeError("'--device' must be a non-empty device name");
  return {
    id: `dev-${createHash('sha256').update(`imported:${name}`).digest('hex').slice(0, 12)}`,
    name,
    hardware: { cpu: 'imported', cores: 0, memoryBytes: 0, os: 'imported', arch: 'unknown', gpus: [] },
    runtime: { backend: 'imported', provider: format, version: 'lut', threads: 0 },
  };
}

function spaceOption(name: string | undefined): SearchSpace | undefined {
  return name === undefined ? undefined : getSpace(name);
}

const FORMAT_HELP = `LUT format: ${listLutFormats().join(' | ')}`;

interface BuildFlags { db: string; device?: string; space?: string; format: string; out: string; json?: boolean }
interface ImportFlags { db: string; device: string; space?: string; format: string; file: string; json?: boolean }

export function lutCommand(): Command {
  const cmd = new Command('lut')
    .description('lookup tables: build one from stored op-level measurements, or import one (ProxylessNAS yaml, FBNet json, CSV)')
    .addHelpText(
      'after',
      examples(
        'hwlat lut build --space proxyless-mobile --format proxyless --out mobile_lut.yaml',
        'hwlat lut import --device pixel4-published --format proxyless --file mobile_lut.yaml --space proxyless-mobile',
      ),
    );

  cmd
    .command('build')
    .description("build a device's LUT from its op-level measurements (normalised to one calibration) and write it")
    .addOption(dbOption({ creates: false }))
    .option('--device <id>', "device id (see `hwlat measurements`; default: the database's only device)")
    .option('--space <name>', "only this space's measurements (required by --format fbnet)")
    .requiredOption('--format <name>', FORMAT_HELP)
    .requiredOption('--out <file>', 'file to write')
    .option('--json', 'machine-readable summary')
    .addHelpText(
      'after',
      examples(
        'hwlat lut build --space proxyless-mobile --format proxyless --out mobile_lut.yaml    # hwlat.sqlite, its only device',
        'hwlat lut build --db lat.sqlite --device dev-0123456789ab --space fbnet --format fbnet --out fbnet_lut.json --json',
      ),
    )
    .action(async (o: BuildFlags) => {
      // every flag is checked before the database is opened
      const format = getLutFormat(o.format);
      const space = spaceOption(o.space);
      if (format.name === 'fbnet' && !space) throw new TypeError("'--space' is required by '--format fbnet': its table has one row per searchable position of the space");
      const store = await openDb(o.db, { mustExist: true });
      try {
        const device = await store.getDevice(await chooseDevice(store, o));
        if (!device) throw new Error(`internal: device listed but not found in '${o.db}'`);
        const measurements = await store.listMeasurements({ deviceId: device.id, level: 'op', ...(space ? { space: space.name } : {}) });
        const disturbed = measurements.filter((m) => !isUsable(m)).length;
        if (measurements.length === 0) {
          throw new RangeError(
            `device '${device.id}' has no op-level measurements${space ? ` in space '${space.name}'` : ''} ` +
              `(measure them with \`hwlat profile --space ${space?.name ?? 'S'} --ops --db ${o.db}\`)`,
          );
        }
        // the same LUT, at the same reference calibration, as the HTTP export and the dashboard
        const lut = await deviceLut(store, device.id, space?.name);
        const written = writeLutFile(o.out, lut, format.name, { space });
        const summary = {
          db: o.db,
          device: { id: device.id, name: device.name },
          space: lut.space ?? null,
          format: format.name,
          out: o.out,
          // what the file holds, which a format may make fewer than the LUT's entries
          entries: written.entries,
          lutEntries: lut.entries.size,
          measurements: measurements.length,
          disturbed,
          calibrationMs: lut.calibrationMs,
        };
        emit(Boolean(o.json), summary, () =>
          [
            `wrote ${written.entries} entries (${format.name}) to ${o.out}` +
              (written.entries === lut.entries.size ? '' : ` (of the LUT's ${lut.entries.size}: the ${format.name} format holds ${written.entries} of them)`),
            `device ${device.id} (${device.name}), ${measurements.length} op-level measurements` +
              (disturbed > 0 ? ` (${disturbed} disturbed, left out)` : '') +
              (lut.calibrationMs === null ? ', no calibration' : `, expressed at calibration ${lut.calibrationMs.toFixed(4)} ms`),
          ].join('\n'),
        );
      } finally {
        await store.close();
      }
    });

  cmd
    .command('import')
    .description('store a LUT file as op-level measurements of a device named NAME (its id derives from the name); entries the device already holds are not stored again')
    .addOption(dbOption({ creates: true }))
    .requiredOption('--device <name>', 'name of the imported device, e.g. pixel4-cpu')
    .requiredOption('--format <name>', FORMAT_HELP)
    .requiredOption('--file <file>', 'LUT file to read')
    .option('--space <name>', 'the space the keys belong to (recorded, and their op specs stored)')
    .option('--json', 'machine-readable summary')
    .addHelpText(
      'after',
      examples(
        'hwlat lut import --device pixel4-published --format proxyless --file mobile_lut.yaml --space proxyless-mobile',
        'hwlat lut import --db lat.sqlite --device note10-ofa --format proxyless --file 160_lookup_table.yaml --json   # OFA: std instead of var',
        'hwlat lut import --db lat.sqlite --device fbnet-published --format fbnet --file fbnet_lut.json --space fbnet',
      ),
    )
    .action(async (o: ImportFlags) => {
      const format = getLutFormat(o.format);
      const space = spaceOption(o.space);
      const device = importedDeviceProfile(o.device, format.name);
      // the file is read and parsed before the store is opened: bad input writes nothing
      const lut = readLutFile(o.file, format.name, { space, deviceId: device.id });
      if (lut.entries.size === 0) throw new RangeError(`'${o.file}' holds no LUT entries: nothing to import`);
      const spaceName = space?.name ?? lut.space ?? null;
      const store = await openDb(o.db, { mustExist: false });
      try {
        // what the device's LUT already says is not stored again: re-importing a table, or the
        // device's own export (whose var came back through a stddev), stores nothing new
        const stored = (await store.getDevice(device.id)) ? await deviceLut(store, device.id) : null;
        const fresh = stored ? unstoredEntries(lut.entries, stored) : lut.entries;
        // the pass id derives from the device, space and the entries stored, so an import cut
        // short and run again recreates the same measurement ids and the store keeps them once
        const canonical = LUT_FORMATS.csv.format({ ...lut, entries: fresh });
        const passId = `pass-imported-${createHash('sha256').update(`${device.id}\n${spaceName ?? ''}\n${canonical}`).digest('hex').slice(0, 16)}`;
        const now = new Date().toISOString();
        const measurements = lutToMeasurements(fresh, {
          deviceId: device.id,
          passId,
          space: spaceName,
          specOf: spaceName ? specsOfSpace(spaceName) : undefined,
          createdAt: now,
        });
        await store.upsertDevice(device);
        if (measurements.length > 0 && !(await store.getPass(passId))) {
          await store.startPass({
            id: passId, deviceId: device.id, startedAt: now, finishedAt: now,
            calibrationKey: IMPORTED_CALIBRATION_KEY, calibrationMs: null, calibrationTrace: [],
          });
        }
        const result = measurements.length > 0 ? await store.insertMeasurements(measurements) : { inserted: 0, duplicates: 0 };
        const already = lut.entries.size - result.inserted;
        const summary = {
          db: o.db,
          device: { id: device.id, name: device.name },
          passId: result.inserted > 0 ? passId : null,
          space: spaceName,
          format: format.name,
          file: o.file,
          entries: lut.entries.size,
          inserted: result.inserted,
          duplicates: already,
        };
        const named = `device ${device.id} (${device.name})`;
        emit(Boolean(o.json), summary, () =>
          result.inserted === 0
            ? `nothing new: the ${lut.entries.size} entries of ${o.file} (${format.name}) are already stored for ${named}`
            : `imported ${result.inserted} entries (${format.name}, ${o.file}) as ${named}` +
              (already > 0 ? `; ${already} were already stored` : ''),
        );
      } finally {
        await store.close();
      }
    });

  return cmd;
}
