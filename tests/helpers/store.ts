import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type SqliteStore } from '../../collector/index.ts';

/** Runs `fn` with a fresh temp directory, removed afterwards whatever happens. */
export async function withTmp(fn: (dir: string) => Promise<void> | void, prefix = 'hwlat-store-'): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens a store on a real file in a fresh temp dir and closes it afterwards. */
export async function withStore(fn: (store: SqliteStore, file: string) => Promise<void> | void, prefix = 'hwlat-store-'): Promise<void> {
  await withTmp(async (dir) => {
    const file = path.join(dir, 'hwlat.sqlite');
    const store = openStore({ path: file });
    try {
      await fn(store, file);
    } finally {
      await store.close();
    }
  }, prefix);
}
