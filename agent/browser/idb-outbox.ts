import { invalidArgumentError, ResultSchema, type ResultMessage } from '../../protocol/index.ts';
import type { ResultOutbox } from '../transport/outbox-types.ts';

const STORE = 'results';

interface Row {
  resultId: string;
  /** creation order: list() returns oldest first, and a re-put keeps its place */
  seq: number;
  result: ResultMessage;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/**
 * The browser agent's durable outbox: one IndexedDB database per device id, one row per result
 * that was measured but not yet acknowledged. put() resolves once its transaction committed with
 * 'strict' durability (flushed, where the browser supports the hint), so closing the tab, a crash
 * or a collector restart loses nothing: every (re)connect re-sends list(), and the collector ignores
 * duplicates by result id. Same contract as the Node agent's on-disk Outbox (ResultOutbox).
 *
 * @example
 * const outbox = new IdbOutbox('dev-0123456789ab');
 * await outbox.put(result);
 * console.log((await outbox.list()).length); // 1
 * await outbox.remove([result.resultId]);
 */
export class IdbOutbox implements ResultOutbox {
  readonly dbName: string;
  private readonly db: Promise<IDBDatabase>;
  private lastSeq = 0;

  constructor(name: string, factory: IDBFactory = globalThis.indexedDB) {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError(`'name' must be a non-empty string, got ${JSON.stringify(name)}`);
    if (!factory) throw new TypeError(`'factory' is missing: this browser has no IndexedDB (private mode?), so results cannot be kept across reconnects`);
    this.dbName = `hwlat-outbox:${name}`;
    const open = factory.open(this.dbName, 1);
    open.onupgradeneeded = () => {
      if (!open.result.objectStoreNames.contains(STORE)) open.result.createObjectStore(STORE, { keyPath: 'resultId' });
    };
    this.db = request(open);
  }

  async put(result: ResultMessage): Promise<void> {
    const parsed = ResultSchema.safeParse(result);
    if (!parsed.success) {
      throw invalidArgumentError(parsed.error, 'result', 'outbox: ');
    }
    const db = await this.db;
    const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' });
    const store = tx.objectStore(STORE);
    const committed = done(tx);
    const existing = (await request(store.get(result.resultId))) as Row | undefined;
    const row: Row = { resultId: result.resultId, seq: existing?.seq ?? this.nextSeq(), result: parsed.data };
    store.put(row);
    await committed;
  }

  async remove(resultIds: readonly string[]): Promise<void> {
    if (resultIds.length === 0) return;
    const db = await this.db;
    const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' });
    const store = tx.objectStore(STORE);
    for (const id of resultIds) store.delete(id);
    await done(tx);
  }

  async list(): Promise<ResultMessage[]> {
    const db = await this.db;
    const tx = db.transaction(STORE, 'readonly');
    const rows = (await request(tx.objectStore(STORE).getAll())) as Row[];
    return rows.sort((a, b) => a.seq - b.seq).map((r) => r.result);
  }

  /** Closes the database (tests, and a page that switches devices). */
  async close(): Promise<void> {
    (await this.db).close();
  }

  /** Epoch microseconds, strictly increasing within this page: orders rows across page loads too. */
  private nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now() * 1000);
    return this.lastSeq;
  }
}
