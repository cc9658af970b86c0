import type pg from 'pg';
import { StoreConflictError, StoreReferenceError } from '../errors.ts';
import { asUnavailable } from './connect.ts';

/** What the table modules query through: a pool (one statement, its own transaction) or a transaction's client. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/**
 * The pool with the two ways the backend uses it: one statement (autocommit), or one transaction
 * on one connection, committed before the promise resolves, so a caller acknowledges only what is
 * committed. Errors that mean the server cannot be used now become StoreUnavailableError; a foreign
 * key the checks missed (a row deleted by hand under a running collector) becomes
 * StoreReferenceError, a unique key another transaction took first StoreConflictError; the
 * store's own typed errors pass through after the rollback.
 */
export class PgDb {
  constructor(
    readonly pool: pg.Pool,
    readonly label: string,
  ) {}

  #translate(method: string, err: unknown): unknown {
    const unavailable = asUnavailable(this.label, method, err);
    if (unavailable) return unavailable;
    const e = err as { code?: string; detail?: string; message?: string };
    if (e.code === '23503') return new StoreReferenceError(method, `a row it refers to does not exist (${e.detail ?? e.message})`);
    // two replicas writing the same unique row at once (e.g. two profiles of one measurement): the
    // checks ran before the other committed; the unique index is the backstop
    if (e.code === '23505') {
      const c = err as { constraint?: string };
      return new StoreConflictError(c.constraint ?? 'row', e.detail ?? '', `written at the same time by another collector (${e.message})`);
    }
    return err;
  }

  async query<R extends pg.QueryResultRow>(method: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw this.#translate(method, err);
    }
  }

  /**
   * Runs `fn` in a READ COMMITTED transaction: row locks (FOR UPDATE, SKIP LOCKED) give each
   * method the isolation it needs without serialization failures to retry.
   */
  async tx<T>(method: string, fn: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.#translate(method, err);
    }
    let broken = false;
    // a connection that dies while checked out emits 'error' on the client besides failing its
    // query: without a listener that would be an uncaught exception taking the collector down
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is gone: do not hand it to the next caller
      }
      throw this.#translate(method, err);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}
