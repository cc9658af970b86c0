import { Command } from 'commander';
import { announceResync, PgNotifier } from '../../collector/index.ts';
import { copyDatabase, TABLE_NAMES, type CopySummary } from '../../collector/store/copy/index.ts';
import { examples } from '../help-examples.ts';
import { emit, intOption, progressBar, table } from '../output.ts';

interface CopyFlags {
  from: string;
  to: string;
  force?: boolean;
  batch: number;
  json?: boolean;
}

function copyText(s: CopySummary): string {
  const rows = TABLE_NAMES.map((t) => [t, s.tables[t]] as [string, number]);
  return [
    `copied ${s.rows} rows from ${s.from} (${s.fromKind}) to ${s.to} (${s.toKind}) in ${(s.ms / 1000).toFixed(1)} s`,
    ...(s.replaced ? [`replaced what the target held: ${TABLE_NAMES.filter((t) => s.replaced![t] > 0).map((t) => `${s.replaced![t]} ${t}`).join(', ')}`] : []),
    '',
    table(['table', 'rows'], rows),
  ].join('\n');
}

export function dbCommand(): Command {
  const db = new Command('db')
    .description("move a fleet's database between SQLite and PostgreSQL")
    .addHelpText('after', examples('hwlat db copy --from lat.sqlite --to postgres://hwlat@127.0.0.1:5432/hwlat'));
  db.command('copy')
    .description(
      'copy a whole database (devices, passes, measurements, campaigns, jobs with their lease state, kernel profiles) ' +
        'from one store to another: a SQLite file or a postgres:// URL, either way, without loss. The source is read in ' +
        'one snapshot (collectors may keep running on it); the target is written in one transaction, so a failed copy ' +
        'writes nothing. A target that holds anything is refused unless --force, which replaces its contents.',
    )
    .requiredOption('--from <db>', 'source: a SQLite file or postgres://USER@HOST:PORT/DATABASE')
    .requiredOption('--to <db>', 'target: a SQLite file (created if missing) or a postgres:// URL (the database must exist)')
    .option('--force', 'replace what the target holds (by default a non-empty target is refused)')
    .option('--batch <n>', 'rows per read and per insert', intOption('--batch', 1), 2000)
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      examples(
        'hwlat db copy --from lat.sqlite --to postgres://hwlat@db.example.com:5432/hwlat',
        'hwlat db copy --from postgres://hwlat@127.0.0.1:5432/hwlat --to backup.sqlite --json',
        'hwlat db copy --from lat.sqlite --to postgres://hwlat@127.0.0.1/hwlat --force   # replace what is there',
      ),
    )
    .action(async (o: CopyFlags) => {
      let bar: ReturnType<typeof progressBar> | undefined;
      try {
        const summary = await copyDatabase({
          from: o.from,
          to: o.to,
          force: Boolean(o.force),
          batchSize: o.batch,
          onProgress: (p) => {
            bar ??= progressBar('copy', Math.max(p.total, 1));
            bar.update(p.done, `${p.table} ${p.tableDone}/${p.tableTotal}`);
          },
        });
        bar?.stop();
        bar = undefined;
        // replicas serving the target cache what it held: tell them anything may have changed
        if (summary.toKind === 'postgres') await announceResync(new PgNotifier({ url: o.to }));
        emit(Boolean(o.json), summary, () => copyText(summary));
      } finally {
        bar?.stop();
      }
    });
  return db;
}
