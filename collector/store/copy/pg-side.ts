import type pg from 'pg';
import { connectPool, parsePostgresUrl } from '../postgres/connect.ts';
import { openPostgresStore } from '../postgres/open.ts';
import type { CopySide } from './side.ts';
import { TABLES, TABLE_NAMES, type ColumnKind, type Row, type TableCounts, type TableName, type TableSpec } from './tables.ts';

/**
 * A PostgreSQL database as one end of a copy. It is opened through openPostgresStore first (the
 * server checked, the schema migrated; one written by newer hwlat refused), then used on one
 * connection of its own: a REPEATABLE READ snapshot to read, one transaction to write.
 */
export async function openPgSide(url: string): Promise<CopySide> {
  await (await openPostgresStore({ url, poolSize: 1 })).close();
  const loc = parsePostgresUrl(url, { poolSize: 1 });
  const pool = await connectPool(loc);
  try {
    const client = await pool.connect();
    // a lost connection fails the copy's next query (and rolls it back); the event itself is not a crash
    client.on('error', () => {});
    return new PgSide(pool, client, loc.label);
  } catch (err) {
    await pool.end();
    throw err;
  }
}

const PG_TYPE: Record<ColumnKind, string> = { text: 'text', int: 'int', bigint: 'int8', float8: 'float8', json: 'json', bool: 'bool' };

class PgSide implements CopySide {
  readonly kind = 'postgres' as const;
  #inTx = false;

  constructor(
    readonly pool: pg.Pool,
    readonly client: pg.PoolClient,
    readonly label: string,
  ) {}

  async columns(): Promise<Map<TableName, string[]>> {
    const { rows } = await this.client.query<{ table_name: TableName; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = ANY($1::text[]) ORDER BY table_name, ordinal_position`,
      [TABLE_NAMES],
    );
    const out = new Map<TableName, string[]>();
    for (const r of rows) {
      let list = out.get(r.table_name);
      if (list === undefined) out.set(r.table_name, (list = []));
      list.push(r.column_name);
    }
    return out;
  }

  async counts(): Promise<TableCounts> {
    const { rows } = await this.client.query<Record<TableName, number>>(
      `SELECT ${TABLE_NAMES.map((t) => `(SELECT COUNT(*) FROM ${t})::int AS ${t}`).join(', ')}`,
    );
    return rows[0]! as TableCounts;
  }

  async beginRead(): Promise<void> {
    // one snapshot for the counts and every table, while collectors keep writing
    await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    this.#inTx = true;
  }

  async *rows(spec: TableSpec, batch: number): AsyncIterable<Row[]> {
    const cols = spec.columns.map(([c]) => c);
    const key = spec.pgKey;
    const extra = key.filter((k) => !cols.includes(k));
    const select = `SELECT ${[...cols, ...extra].join(', ')} FROM ${spec.name}`;
    const order = ` ORDER BY ${key.join(', ')} LIMIT ${batch}`;
    let last: unknown[] | undefined;
    for (;;) {
      const where = last === undefined ? '' : ` WHERE (${key.join(', ')}) > (${key.map((_, i) => `$${i + 1}`).join(', ')})`;
      const { rows } = await this.client.query<Row>(`${select}${where}${order}`, last ?? []);
      if (rows.length === 0) return;
      const tail = rows[rows.length - 1]!;
      last = key.map((k) => tail[k]);
      for (const r of rows) for (const k of extra) delete r[k];
      yield rows;
      if (rows.length < batch) return;
    }
  }

  async beginWrite(): Promise<void> {
    await this.client.query('BEGIN');
    this.#inTx = true;
    // the job ↔ measurement foreign keys are DEFERRABLE (migrations.ts): checked at COMMIT
    await this.client.query('SET CONSTRAINTS ALL DEFERRED');
  }

  async clear(): Promise<void> {
    for (const spec of [...TABLES].reverse()) await this.client.query(`DELETE FROM ${spec.name}`);
  }

  async write(spec: TableSpec, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const cols = spec.columns.map(([c]) => c);
    const unnest = spec.columns.map(([, kind], i) => `$${i + 1}::${PG_TYPE[kind]}[]`).join(', ');
    // one statement per batch, one array per column: a fixed number of parameters for any batch
    await this.client.query(
      `INSERT INTO ${spec.name} (${cols.join(', ')}) SELECT * FROM unnest(${unnest})`,
      cols.map((c) => rows.map((r) => r[c])),
    );
  }

  async commit(): Promise<void> {
    await this.client.query('COMMIT');
    this.#inTx = false;
  }

  async rollback(): Promise<void> {
    if (!this.#inTx) return;
    this.#inTx = false;
    await this.client.query('ROLLBACK');
  }

  async close(): Promise<void> {
    try {
      await this.rollback();
    } finally {
      this.client.release();
      await this.pool.end();
    }
  }
}
