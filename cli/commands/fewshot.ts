import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { fleetFewShotData, fleetFewShotPlan } from '../../collector/index.ts';
import { ArchParseError, getSpace, type SearchSpace } from '../../ops-library/index.ts';
import {
  fewShotPredict, formatPredictionsCsv, parseArchsCsv, parseReferenceCsv, parseTargetCsv, planFewShot, type CsvArch, type FewShotResult,
} from '../../predictor/index.ts';
import { emit, intOption, table } from '../output.ts';
import { exampleArch, examples } from '../help-examples.ts';
import { chooseDevice, dbOption, DEFAULT_DB, openDb } from '../store-options.ts';

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${flag} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function writeText(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new Error(`cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Parses every arch string, naming the file and line of the first that is not of the space. */
function checkArchs(space: SearchSpace, rows: readonly CsvArch[], file: string): void {
  rows.forEach((r, i) => {
    try {
      space.parse(r.arch);
    } catch (e) {
      if (e instanceof ArchParseError) throw new ArchParseError(space.name, r.arch, `'${file}' line ${i + 2} (arch_id '${r.id}'): ${e.message}`);
      throw e;
    }
  });
}

/** The archs, reference and (optionally) target files of the file-based contract. */
function readFiles(o: { space: string; archs: string; reference: string; target?: string }) {
  const space = getSpace(o.space);
  const rows = parseArchsCsv(readText(o.archs, '--archs'), o.archs);
  checkArchs(space, rows, o.archs);
  const ids = new Map(rows.map((r, i) => [r.id, i]));
  const reference = parseReferenceCsv(readText(o.reference, '--reference'), o.reference, ids, o.archs);
  const target = o.target === undefined ? [] : parseTargetCsv(readText(o.target, '--target'), o.target, ids, o.archs);
  return { space, rows, reference, target };
}

function summary(result: FewShotResult, k: number): string {
  const top = result.weights.slice(0, 5).map((w) => [w.device, w.weight.toFixed(3)]);
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  // one factor for every architecture: the interval is log prediction ± t·σ
  const factor = (result.hi[0] as number) / (result.ms[0] as number);
  return [
    `from ${k} measurements and ${result.devicesUsed.length} reference devices (${pct(1 - result.physicalWeight - result.basisWeight - result.embeddingWeight)} of the weight; device basis (their per-choice tables mixed in ms) ${pct(result.basisWeight)}; FLOPs/memory/kernel models ${pct(result.physicalWeight)}; device embedding ${pct(result.embeddingWeight)})${result.imputed ? ` (${result.imputed} unmeasured reference values filled in by per-device cost tables)` : ''}; leave-one-out RMS log error ${Number.isNaN(result.looRmse) ? '-' : result.looRmse.toFixed(3)}`,
    `${pct(result.interval)} intervals: each prediction ×/÷ ${factor.toFixed(3)} (lo_ms, hi_ms; log σ ${result.logSigma.toFixed(3)} from the leave-one-out residuals)`,
    top.length ? table(['reference device', 'weight (log space)'], top) : '(no reference device: per-choice costs only)',
  ].join('\n');
}

/** The fields of a prediction that --json reports (same names as FewShotResult's). */
function resultFields(result: FewShotResult) {
  return { references: result.devicesUsed, weights: result.weights, physicalWeight: result.physicalWeight, basisWeight: result.basisWeight, embeddingWeight: result.embeddingWeight, looRmse: result.looRmse, interval: result.interval, logSigma: result.logSigma };
}

type FileOpts = { space?: string; archs?: string; reference?: string; target?: string; out?: string; db: string; device?: string; seed: number; json?: boolean };

async function predictAction(o: FileOpts, self: Command): Promise<void> {
  // in-fleet when a device or a database is named; --db alone defaults (hwlat.sqlite)
  if (self.getOptionValueSource('db') !== 'default' || o.device !== undefined) {
    const store = await openDb(o.db, { mustExist: true });
    let data;
    let extra: CsvArch[] = [];
    let device: string;
    try {
      device = await chooseDevice(store, o);
      if (o.archs !== undefined) {
        if (o.space === undefined) throw new TypeError("'--archs' with '--db' needs '--space'");
        extra = parseArchsCsv(readText(o.archs, '--archs'), o.archs);
        checkArchs(getSpace(o.space), extra, o.archs);
      }
      data = await fleetFewShotData(store, device, { space: o.space, extraArchs: extra.map((r) => r.arch) });
    } finally {
      await store.close();
    }
    const result = fewShotPredict(data);
    const index = new Map(data.archs.map((a, i) => [a, i]));
    const measured = new Map(data.target.map((t) => [t.index, t.ms]));
    // with --archs: those rows under their ids; without: every architecture the fleet measured
    const out = extra.length
      ? extra.map((r) => ({ id: r.id, i: index.get(data.space.format(data.space.parse(r.arch))) as number }))
      : data.archs.map((_, i) => ({ id: String(i), i }));
    const csv = `arch_id,latency_ms,lo_ms,hi_ms,measured_ms,arch\n${out.map(({ id, i }) => `${id},${[result.ms, result.lo, result.hi].map((v) => (v[i] as number).toFixed(5)).join(',')},${measured.get(i)?.toFixed(5) ?? ''},${data.archs[i]}`).join('\n')}\n`;
    if (o.out) writeText(o.out, csv);
    emit(Boolean(o.json), { device, space: data.space.name, measured: data.target.length, predicted: out.length, ...resultFields(result), out: o.out ?? null }, () =>
      [`${data.space.name} on ${device}: predicted ${out.length} networks`, summary(result, data.target.length), o.out ? `wrote ${o.out}` : csv.trimEnd()].join('\n'),
    );
    return;
  }
  for (const [flag, v] of [['--space', o.space], ['--archs', o.archs], ['--reference', o.reference], ['--target', o.target], ['--out', o.out]] as const) {
    if (v === undefined) throw new TypeError(`'${flag}' is required (or use '--device', with '--db', for a device of the fleet)`);
  }
  const { space, rows, reference, target } = readFiles(o as Required<FileOpts>);
  const result = fewShotPredict({ space, archs: rows.map((r) => r.arch), reference, target });
  writeText(o.out as string, formatPredictionsCsv(rows.map((r) => r.id), result.ms, result));
  emit(Boolean(o.json), { space: space.name, archs: rows.length, measured: target.length, ...resultFields(result), imputed: result.imputed, out: o.out }, () =>
    [`${space.name}: predicted ${rows.length} architectures, wrote ${o.out}`, summary(result, target.length)].join('\n'),
  );
}

function planCommand(): Command {
  return new Command('plan')
    .description("propose which K architectures a new device should measure: representative ones of the reference devices' latency structure (random picks do about as well)")
    .option('--space <name>', 'search space: nasbench201, fbnet, …')
    .option('--archs <csv>', "candidate architectures, 'arch_id,arch'")
    .option('--reference <csv>', "reference devices' latencies, 'arch_id,<device>,…' (ms)")
    // no default of its own: it would hide a --db given to the parent command (optsWithGlobals)
    .option('--db <file>', `plan from the fleet in this SQLite store (default without '--archs'/'--reference': ${DEFAULT_DB}; needs --space)`)
    .requiredOption('--k <n>', 'how many architectures to measure', intOption('--k', 1))
    .option('--seed <n>', 'seed of the candidate pool', intOption('--seed', 0), 0)
    .option('--out <csv>', "where to write the plan as 'arch_id,arch' (an archs file the device can measure)")
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      examples(
        'hwlat fewshot plan --space fbnet --k 10 --out plan.csv          # from the fleet in hwlat.sqlite',
        'hwlat fewshot plan --space nasbench201 --archs archs.csv --reference reference.csv --k 10 --json',
      ),
    )
    .action(async (_opts: unknown, self: Command) => {
      // the parent command shares --space/--archs/--reference/--db/--seed/--out/--json and parses them first
      const o = self.optsWithGlobals() as { space?: string; archs?: string; reference?: string; db: string; k: number; seed: number; out?: string; json?: boolean };
      if (o.space === undefined) throw new TypeError("'--space' is required");
      let picked: Array<{ id: string; arch: string }>;
      // from files when they are given and no database is named; else from the fleet
      const dbNamed = self.getOptionValueSource('db') !== undefined || self.parent?.getOptionValueSource('db') !== 'default';
      if (dbNamed || (o.archs === undefined && o.reference === undefined)) {
        const store = await openDb(o.db, { mustExist: true });
        try {
          picked = (await fleetFewShotPlan(store, o.space, o.k, o.seed)).map((arch, i) => ({ id: String(i), arch }));
        } finally {
          await store.close();
        }
      } else {
        if (o.archs === undefined || o.reference === undefined) throw new TypeError("'--archs' and '--reference' are required (or '--db')");
        const { space, rows, reference } = readFiles({ space: o.space, archs: o.archs, reference: o.reference });
        picked = planFewShot({ space, archs: rows.map((r) => r.arch), reference, k: o.k, seed: o.seed }).map((i) => rows[i] as CsvArch);
      }
      const csv = `arch_id,arch\n${picked.map((r) => `${r.id},${r.arch}`).join('\n')}\n`;
      if (o.out) writeText(o.out, csv);
      emit(Boolean(o.json), { k: picked.length, plan: picked, out: o.out ?? null }, () => (o.out ? `wrote ${picked.length} architectures to measure to ${o.out}` : csv.trimEnd()));
    });
}

export function fewshotCommand(): Command {
  const cmd = new Command('fewshot')
    .description('predict a new device\'s latency on every architecture, each with a 90% interval, from a few of its measurements and reference devices (files, or the fleet with --db)')
    .option('--space <name>', 'search space: nasbench201, fbnet, … (in-fleet: inferred from the device)')
    .option('--archs <csv>', "architectures to predict, 'arch_id,arch'")
    .option('--reference <csv>', "reference devices' measured latencies, 'arch_id,<device>,…' (ms; empty = not measured)")
    .option('--target <csv>', "the new device's few measurements, 'arch_id,latency_ms' (at least 2)")
    .option('--out <csv>', "predictions, 'arch_id,latency_ms,lo_ms,hi_ms' (lo/hi: each prediction's 90% interval; in-fleet: plus measured_ms and arch)")
    .addOption(dbOption({ creates: false, about: 'in-fleet: SQLite store; the other devices are the reference' }))
    .option('--device <id>', 'in-fleet: the device to predict (it needs 2+ measured networks)')
    .option('--seed <n>', 'accepted for a stable interface: the transfer itself is deterministic', intOption('--seed', 0), 0)
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      examples(
        'hwlat fewshot --device dev-0123456789ab --space fbnet --out predicted.csv        # in-fleet, hwlat.sqlite',
        'hwlat fewshot --space nasbench201 --archs archs.csv --reference reference.csv --target target.csv --out predicted.csv --json',
      ) + `\narchs.csv is 'arch_id,arch', e.g.\n  0,${exampleArch('nasbench201')}\n`,
    )
    .action(predictAction);
  cmd.addCommand(planCommand());
  return cmd;
}
