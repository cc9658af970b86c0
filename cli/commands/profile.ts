import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import {
  CALIBRATION_KEY, createBackend, fingerprint, networkItems, nodeProbe, opItems, parseBackendSpec, profileItems, type ProfileItem,
} from '../../agent/index.ts';
import { summariseQuality, threadWarning } from '../../conditions/index.ts';
import { getSpace, opUnitsToMeasure, sampleArchs } from '../../ops-library/index.ts';
import { emit, intOption, numberOption, progressBar, table } from '../output.ts';
import { exampleArch, examples } from '../help-examples.ts';
import { dbOption, openDb } from '../store-options.ts';
import { profileNetworkKernels, type KernelsSummary } from './profile-kernels.ts';

interface ProfileFlags {
  space: string;
  networks: number;
  arch: string[];
  ops?: boolean;
  db: string;
  backend: string;
  threads: number;
  seed: number;
  batch: number;
  warmup: number;
  repeats: number;
  minTime: number;
  maxOps?: number;
  kernels?: boolean;
  json?: boolean;
}

export function profileCommand(): Command {
  return new Command('profile')
    .description("profile a space on this machine: every distinct layer key ('--ops') and/or N sampled networks, into SQLite")
    .requiredOption('--space <name>', 'search space or fixed network (see `hwlat ops list`)')
    .option('--networks <n>', 'number of sampled networks to measure', intOption('--networks', 0), 0)
    .option('--arch <string>', 'measure this architecture of the space (repeatable; e.g. one a search found)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--ops', "measure every distinct layer key of the space (the LUT's entries)")
    .addOption(dbOption({ creates: true }))
    .option('--backend <name[:provider]>', 'runtime backend and execution provider', 'ort-node:cpu')
    .option('--threads <n>', 'intra-op threads (0 = runtime default)', intOption('--threads', 0), 1)
    .option('--seed <n>', 'seed of the architecture sampler', intOption('--seed', 0), 0)
    .option('--batch <n>', 'batch size', intOption('--batch', 1), 1)
    .option('--warmup <n>', 'warm-up runs per model', intOption('--warmup', 0), 3)
    .option('--repeats <n>', 'minimum timed runs per model', intOption('--repeats', 1), 10)
    .option('--min-time <ms>', 'minimum timed milliseconds per model', numberOption('--min-time', 0), 200)
    .option('--max-ops <n>', 'measure at most this many layer keys (a quick sample)', intOption('--max-ops', 1))
    .option('--kernels', "also run each network with the runtime's profiler on and store its kernels timed in context (ort-node, ort-web:wasm)")
    .option('--json', 'machine-readable summary')
    .addHelpText(
      'after',
      examples(
        'hwlat profile --space fbnet --ops --networks 30                 # into hwlat.sqlite',
        'hwlat profile --space nasbench201 --networks 20 --kernels --db lat.sqlite --json',
        `hwlat profile --space proxyless-mobile --arch '${exampleArch('proxyless-mobile')}' --threads 2`,
      ),
    )
    .action(async (o: ProfileFlags) => {
      const space = getSpace(o.space);
      if (!o.ops && o.networks === 0 && o.arch.length === 0) throw new TypeError("nothing to profile: pass '--ops', '--networks N' (N >= 1) and/or '--arch ARCH'");
      // a malformed architecture is named before anything is measured (ArchParseError)
      for (const arch of o.arch) space.parse(arch);
      if (o.kernels && o.networks === 0 && o.arch.length === 0) throw new TypeError("'--kernels' profiles networks: pass '--networks N' (N >= 1) and/or '--arch ARCH'");
      const { name, provider } = parseBackendSpec(o.backend);
      // open the store first: a bad path fails before minutes of measuring
      const store = await openDb(o.db, { mustExist: false });
      try {
        const backend = await createBackend(name, { provider, threads: o.threads });
        try {
          const device = await fingerprint(backend.info);
          await store.upsertDevice(device);
          // ORT's spinning threads collapse when there are fewer free cores than threads
          const probe = nodeProbe();
          const warning = threadWarning({ threads: backend.info.threads || 1, cores: probe.cores() ?? 1, loadAverage: probe.loadAverage() });
          if (warning !== null) process.stderr.write(`warning: ${warning}\n`);
          const items: ProfileItem[] = [];
          if (o.ops) items.push(...opItems(space.name, opUnitsToMeasure(space, { maxOps: o.maxOps })));
          if (o.networks > 0) items.push(...networkItems(space, sampleArchs(space, { count: o.networks, seed: o.seed })));
          if (o.arch.length > 0) items.push(...networkItems(space, o.arch));
          const passId = `pass-${randomUUID()}`;
          await store.startPass({ id: passId, deviceId: device.id, startedAt: new Date().toISOString(), finishedAt: null, calibrationKey: CALIBRATION_KEY, calibrationMs: null, calibrationTrace: [] });
          const bar = progressBar(`profile ${space.name}`, items.length);
          let stored = 0;
          const result = await profileItems(items, {
            backend,
            deviceId: device.id,
            passId,
            batch: o.batch,
            warmup: o.warmup,
            minRepeats: o.repeats,
            minTimeMs: o.minTime,
            probe,
            onProgress: (done, _total, note) => bar.update(done, note),
            onMeasurements: async (ms) => {
              stored += (await store.insertMeasurements(ms)).inserted;
            },
          }).finally(() => bar.stop());
          await store.finishPass(passId, { finishedAt: new Date().toISOString(), calibrationMs: result.calibrationMs, calibrationTrace: result.calibrationTrace });
          let kernels: KernelsSummary | null = null;
          if (o.kernels) {
            const kbar = progressBar('kernels', result.measurements.filter((m) => m.level === 'network').length);
            kernels = await profileNetworkKernels({ store, runtime: backend.info, measurements: result.measurements, items, batch: o.batch, onProgress: (done) => kbar.update(done, '') }).finally(() => kbar.stop());
          }
          const ops = result.measurements.filter((m) => m.level === 'op');
          const nets = result.measurements.filter((m) => m.level === 'network');
          const cvs = result.measurements.map((m) => m.stats.cv).sort((a, b) => a - b);
          const quality = summariseQuality(result.measurements);
          const summary = {
            db: o.db,
            device: { id: device.id, name: device.name },
            passId,
            space: space.name,
            stored,
            ops: ops.length,
            networks: nets.length,
            calibrationMs: result.calibrationMs,
            medianCv: cvs[Math.floor(cvs.length / 2)] ?? null,
            quality: { ...quality, groups: result.groups },
            warning,
            ...(kernels ? { kernels } : {}),
          };
          emit(Boolean(o.json), summary, () =>
            [
              `device ${device.id} (${device.name}), pass ${passId}`,
              `stored ${stored} measurements in ${o.db}: ${ops.length} op-level, ${nets.length} network-level`,
              ...(kernels ? [kernelsLine(kernels)] : []),
              `calibration ${result.calibrationMs?.toFixed(4)} ms; median coefficient of variation ${summary.medianCv?.toFixed(3)}`,
              `quality: ${quality.text}` +
                (result.groups.disturbed > 0 ? ` — ${result.groups.disturbed} of ${result.groups.total} groups stayed disturbed: stored marked, not used by LUTs or predictors; profile again on a quieter machine` : ''),
              ...(quality.verdict !== 'clean' ? [`evidence: ${[...new Set(result.measurements.flatMap((m) => m.quality?.evidence ?? []))].slice(0, 4).join('; ')}`] : []),
              '',
              table(
                ['level', 'median ms', 'cold ms', 'cv', 'quality', 'key'],
                result.measurements.slice(0, 20).map((m) => [m.level, m.stats.median.toFixed(4), m.cold ? m.cold.median.toFixed(4) : '-', m.stats.cv.toFixed(3), m.quality?.verdict ?? 'clean', m.key]),
              ),
              result.measurements.length > 20 ? `… ${result.measurements.length - 20} more (hwlat measurements --db ${o.db})` : '',
            ].join('\n'),
          );
        } finally {
          await backend.dispose();
        }
      } finally {
        await store.close();
      }
    });
}

function kernelsLine(k: KernelsSummary): string {
  const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(0)}%`);
  const top = k.ops.slice(0, 3).map((e) => `${e.op} ×${e.count}`).join(', ');
  return `stored ${k.profiles} kernel profiles (${k.kernels} kernels timed in context; kernels cover ${pct(k.medianCoverage)} of a profiled run, the profiled run is ${pct(k.medianProfilerOverhead)} of the measured latency); most time: ${top}`;
}
