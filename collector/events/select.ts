import { InProcessNotifier } from './in-process.ts';
import { PgNotifier } from './postgres.ts';
import type { ChangeNotifier } from './types.ts';

export interface NotifierForOptions {
  /** this replica's id in events (default: a random one) */
  origin?: string;
  log?: (event: Record<string, unknown>) => void;
}

/**
 * The notifier a collector on this `--db` uses: replicas share a PostgreSQL database, so a
 * postgres:// (postgresql://) URL gets LISTEN/NOTIFY on that same database (PgNotifier); a SQLite
 * file has one collector, which tells only itself (InProcessNotifier). Not started yet.
 *
 * @example
 * const notifier = notifierFor(flags.db, { log });
 * await notifier.start();
 */
export function notifierFor(db: string, options: NotifierForOptions = {}): ChangeNotifier {
  if (typeof db !== 'string' || db.trim() === '') throw new TypeError(`'db' must be a SQLite file path or a postgres:// URL, got '${String(db)}'`);
  return /^postgres(ql)?:\/\//i.test(db) ? new PgNotifier({ url: db, ...options }) : new InProcessNotifier(options);
}
