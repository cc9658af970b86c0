import { Command } from 'commander';
import { calibrationClock, createBackend, fingerprint, kernelProfilerFor, parseBackendSpec, runKernelCampaign } from '../../agent/index.ts';
import { isCurrentSampleSpec, kernelCampaign, SAMPLE_FAMILIES, type SampleFamily } from '../../ops-library/index.ts';
import { emit, intOption, numberOption, progressBar, table } from '../output.ts';
import { examples } from '../help-examples.ts';
import { dbOption, openDb } from '../store-options.ts';

interface CampaignFlags {
  db: string;
  backend: string;
  threads: number;
  seed: number;
  limit?: number;
  minutes?: number;
  families?: string;
  runs: number;
  warmup: number;
  resume: boolean;
  json?: boolean;
}

interface ListFlags {
  db: string;
  device?: string;
  op?: string;
  source?: string;
  limit: number;
  json?: boolean;
}

function families(v: string | undefined): SampleFamily[] | null {
  if (v === undefined) return null;
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = list.filter((f) => !(SAMPLE_FAMILIES as readonly string[]).includes(f));
  if (unknown.length > 0 || list.length === 0) throw new RangeError(`'--families': unknown ${unknown.map((f) => `'${f}'`).join(', ') || '(none given)'}; known: ${SAMPLE_FAMILIES.join(', ')}`);
  return list as SampleFamily[];
}

function campaignCommand(): Command {
  return new Command('campaign')
    .description('run the kernel-sampling campaign on this machine: every kernel type over the configurations real models use, each profiled in context, into SQLite')
    .addOption(dbOption({ creates: true }))
    .option('--backend <name[:provider]>', 'runtime backend and execution provider (ort-node:*, ort-web:wasm)', 'ort-node:cpu')
    .option('--threads <n>', 'intra-op threads (0 = runtime default)', intOption('--threads', 0), 1)
    .option('--seed <n>', 'seed of the configuration draw (every device of a fleet should use the same)', intOption('--seed', 0), 0)
    .option('--limit <n>', 'run only the first N configurations (families interleaved)', intOption('--limit', 1))
    .option('--minutes <m>', 'start no configuration after this many minutes', numberOption('--minutes', 0))
    .option('--families <list>', `only these families, comma-separated (${SAMPLE_FAMILIES.join(', ')})`)
    .option('--runs <n>', 'profiled runs per configuration after warm-up', intOption('--runs', 1), 20)
    .option('--warmup <n>', 'warm-up runs per configuration', intOption('--warmup', 0), 3)
    .option('--no-resume', 'profile configurations this device already has in the database again')
    .option('--json', 'machine-readable summary')
    .addHelpText('after', examples('hwlat kernels campaign                 # into hwlat.sqlite', 'hwlat kernels campaign --db lat.sqlite --minutes 10 --families conv,dwconv,pointwise --json'))
    .action(async (o: CampaignFlags) => {
      if (o.minutes !== undefined && !(o.minutes > 0)) throw new RangeError(`'--minutes' must be > 0, got ${o.minutes}`);
      const only = families(o.families);
      const { name, provider } = parseBackendSpec(o.backend);
      const store = await openDb(o.db, { mustExist: false });
      try {
        const backend = await createBackend(name, { provider, threads: o.threads });
        const clock = await calibrationClock(backend);
        try {
          const device = await fingerprint(backend.info);
          await store.upsertDevice(device);
          const profiler = kernelProfilerFor(backend.info, { runs: o.runs, warmup: o.warmup });
          if (!profiler) throw new RangeError(`'--backend ${o.backend}' has no kernel profiler here; use ort-node or ort-web:wasm`);
          let samples = kernelCampaign({ seed: o.seed });
          if (only) samples = samples.filter((s) => only.includes(s.family));
          // (samples profiled on an older version of the sample graphs are profiled again)
          const have = o.resume ? new Set((await store.listKernelProfiles({ deviceId: device.id, source: 'sample' })).filter((p) => isCurrentSampleSpec(p.spec)).map((p) => p.key)) : new Set<string>();
          const todo = samples.filter((s) => !have.has(s.key)).slice(0, o.limit);
          const bar = progressBar('kernel campaign', todo.length);
          const result = await runKernelCampaign({
            samples: todo,
            profiler,
            deviceId: device.id,
            ...(o.minutes !== undefined ? { budgetMs: o.minutes * 60_000 } : {}),
            calibrate: clock.measure,
            onProfile: async (p) => {
              await store.insertKernelProfiles([p]);
            },
            onProgress: (done, _t, key) => bar.update(done, key),
          }).finally(() => bar.stop());
          const perFamily = new Map<string, number>();
          for (const s of todo.slice(0, todo.length - result.skipped)) perFamily.set(s.family, (perFamily.get(s.family) ?? 0) + 1);
          const summary = {
            db: o.db,
            device: { id: device.id, name: device.name },
            campaign: samples.length,
            alreadyStored: samples.length - samples.filter((s) => !have.has(s.key)).length,
            profiled: result.profiled,
            failed: result.failed,
            skipped: result.skipped,
            minutes: result.elapsedMs / 60_000,
            calibrationMs: result.calibrationTrace,
            families: Object.fromEntries(perFamily),
          };
          emit(Boolean(o.json), summary, () =>
            [
              `device ${device.id} (${device.name})`,
              `profiled ${result.profiled} of ${samples.length} configurations in ${summary.minutes.toFixed(1)} min into ${o.db}` +
                (summary.alreadyStored > 0 ? ` (${summary.alreadyStored} already there)` : '') +
                (result.skipped > 0 ? `; ${result.skipped} not started (time limit): run again to go on` : ''),
              ...(result.failed.length > 0 ? [`${result.failed.length} failed: ${result.failed.slice(0, 3).map((f) => `${f.key} (${f.error})`).join('; ')}`] : []),
              '',
              table(['family', 'profiled'], [...perFamily].map(([f, n]) => [f, String(n)])),
            ].join('\n'),
          );
        } finally {
          await clock.dispose();
          await backend.dispose();
        }
      } finally {
        await store.close();
      }
    });
}

function listCommand(): Command {
  return new Command('list')
    .description('timed kernels stored in a database: per op, how many and their times')
    .addOption(dbOption({ creates: false }))
    .option('--device <id>', 'only this device')
    .option('--op <op>', "only this op, domain-qualified (e.g. 'com.microsoft.nchwc:Conv')")
    .option('--source <source>', "only kernels of 'network' profiles or campaign 'sample's")
    .option('--limit <n>', 'rows to print per op in --json', intOption('--limit', 1), 5)
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('hwlat kernels list                     # hwlat.sqlite', 'hwlat kernels list --db lat.sqlite --op com.microsoft.nchwc:Conv --source sample --json'))
    .action(async (o: ListFlags) => {
      if (o.source !== undefined && o.source !== 'network' && o.source !== 'sample') throw new RangeError(`'--source' must be 'network' or 'sample', got '${o.source}'`);
      const store = await openDb(o.db, { mustExist: true });
      try {
        const rows = await store.listTimedKernels({ ...(o.device ? { deviceId: o.device } : {}), ...(o.op ? { op: o.op } : {}), ...(o.source ? { source: o.source as 'network' | 'sample' } : {}) });
        const byOp = new Map<string, typeof rows>();
        for (const r of rows) byOp.set(r.op, [...(byOp.get(r.op) ?? []), r]);
        const ops = [...byOp].map(([op, ks]) => {
          const ms = ks.map((k) => k.ms).sort((a, b) => a - b);
          return { op, count: ks.length, medianMs: ms[ms.length >> 1] as number, maxMs: ms[ms.length - 1] as number, examples: ks.slice(0, o.limit) };
        }).sort((a, b) => b.count - a.count);
        const profiles = await store.countKernelProfiles(o.device ? { deviceId: o.device } : {});
        emit(Boolean(o.json), { db: o.db, kernels: rows.length, profiles, ops }, () =>
          [
            `${rows.length} timed kernels in ${o.db}`,
            table(['op', 'count', 'median ms', 'max ms'], ops.map((e) => [e.op, String(e.count), e.medianMs.toFixed(4), e.maxMs.toFixed(4)])),
          ].join('\n'),
        );
      } finally {
        await store.close();
      }
    });
}

/** `hwlat kernels`: the kernel-sampling campaign and the kernels timed in context it stores. */
export function kernelsCommand(): Command {
  return new Command('kernels')
    .description('kernels timed in context: run the kernel-sampling campaign, list what is stored')
    .addHelpText('after', examples('hwlat kernels campaign --minutes 10', 'hwlat kernels list --json'))
    .addCommand(campaignCommand())
    .addCommand(listCommand());
}
