import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgumentError, ResultSchema, type ResultMessage } from '../../protocol/index.ts';
import type { ResultOutbox } from './outbox-types.ts';

/** `<15-digit ms>-<6-digit counter>-<key>.json`: names sort in creation order. */
const ENTRY = /^(\d{15})-(\d{6})-([A-Za-z0-9_~-]+)\.json$/;
const TMP_SUFFIX = '.tmp';
/** tmp files older than this are leftovers of a crash and are swept when an outbox is opened */
const STALE_TMP_MS = 60_000;
const FORMAT_VERSION = 1;

/** A file-name-safe key for a result id: the id itself when it is plain, else '~' + its sha256. */
function fileKey(resultId: string): string {
  return /^[A-Za-z0-9_-]{1,100}$/.test(resultId) ? resultId : `~${createHash('sha256').update(resultId).digest('hex')}`;
}

export interface OutboxOptions {
  /** told about an entry that could not be read back (it is renamed to `*.corrupt` and skipped) */
  onCorrupt?: (file: string, error: Error) => void;
}

/**
 * The Node agent's durable outbox: one JSON file per pending result in `dir`, written atomically
 * (tmp file, fsync, rename, fsync of the folder) before the result is sent, and deleted when the
 * collector acknowledges it. A torn write leaves only a tmp file, which is never listed. One agent
 * process per folder (the CLI uses one folder per device id).
 *
 * @example
 * const outbox = new Outbox('.hwlat/agent/dev-0123456789ab/outbox');
 * await outbox.put(result);          // before sending
 * ws.send(JSON.stringify(result));
 * await outbox.remove(ack.resultIds); // on ack
 * for (const r of await outbox.list()) ws.send(JSON.stringify(r)); // after a reconnect
 */
export class Outbox implements ResultOutbox {
  readonly dir: string;
  private counter = 0;
  private lastMs = 0;
  private readonly onCorrupt: ((file: string, error: Error) => void) | null;

  constructor(dir: string, options: OutboxOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`'dir' must be a non-empty folder path, got ${JSON.stringify(dir)}`);
    this.dir = dir;
    this.onCorrupt = options.onCorrupt ?? null;
    mkdirSync(dir, { recursive: true });
    const now = Date.now();
    for (const name of readdirSync(dir)) {
      const entry = ENTRY.exec(name);
      if (entry) {
        // new entries sort after every existing one, even within the same millisecond
        const ms = Number(entry[1]);
        const n = Number(entry[2]);
        if (ms > this.lastMs || (ms === this.lastMs && n > this.counter)) [this.lastMs, this.counter] = [ms, n];
        continue;
      }
      if (!name.endsWith(TMP_SUFFIX)) continue;
      try {
        if (now - statSync(join(dir, name)).mtimeMs > STALE_TMP_MS) unlinkSync(join(dir, name));
      } catch {
        // gone already, or not ours to delete: it is never listed either way
      }
    }
  }

  async put(result: ResultMessage): Promise<void> {
    const parsed = ResultSchema.safeParse(result);
    if (!parsed.success) throw invalidArgumentError(parsed.error, 'result', 'outbox: ');
    const key = fileKey(result.resultId);
    // the same id again replaces the entry in place, keeping its place in the order
    const existing = (await this.entries()).find((e) => e.key === key);
    const name = existing?.name ?? `${this.stamp()}-${key}.json`;
    const body = JSON.stringify({ version: FORMAT_VERSION, storedAt: new Date().toISOString(), result: parsed.data });
    const tmp = join(this.dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}${TMP_SUFFIX}`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(body, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, join(this.dir, name));
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
    await this.syncDir();
  }

  async remove(resultIds: readonly string[]): Promise<void> {
    if (resultIds.length === 0) return;
    const keys = new Set(resultIds.map(fileKey));
    for (const e of await this.entries()) {
      if (!keys.has(e.key)) continue;
      await unlink(join(this.dir, e.name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  async list(): Promise<ResultMessage[]> {
    const out: ResultMessage[] = [];
    for (const e of await this.entries()) {
      const path = join(this.dir, e.name);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile (acked)
        throw err;
      }
      try {
        const json = JSON.parse(text) as { version?: unknown; result?: unknown };
        if (json.version !== FORMAT_VERSION) throw new Error(`unknown outbox format version ${JSON.stringify(json.version)}`);
        out.push(ResultSchema.parse(json.result));
      } catch (err) {
        // cannot happen through put() (rename is atomic); set it aside so it is not re-read forever
        await rename(path, `${path}.corrupt`).catch(() => {});
        this.onCorrupt?.(e.name, err as Error);
      }
    }
    return out;
  }

  /** Pending entry files, oldest first. */
  private async entries(): Promise<Array<{ name: string; key: string }>> {
    const names = await readdir(this.dir);
    return names
      .map((name) => ENTRY.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[0], key: m[3] as string }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** A name prefix that sorts after every earlier one of this process, and after earlier processes' by time. */
  private stamp(): string {
    const now = Math.max(Date.now(), this.lastMs);
    if (now === this.lastMs) this.counter++;
    else this.counter = 0;
    if (this.counter > 999_999) {
      this.lastMs = now + 1;
      this.counter = 0;
    } else {
      this.lastMs = now;
    }
    return `${String(this.lastMs).padStart(15, '0')}-${String(this.counter).padStart(6, '0')}`;
  }

  /** Makes the rename itself durable; folders cannot be fsynced everywhere (Windows), which is fine. */
  private async syncDir(): Promise<void> {
    let fh;
    try {
      fh = await open(this.dir, 'r');
      await fh.sync();
    } catch {
      // best effort
    } finally {
      await fh?.close().catch(() => {});
    }
  }
}
