import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type SqliteStore } from '../../collector/index.ts';

/** Runs `fn` with a fresh temp directory, removed afterwards whatever happens. */
export function withTmp(fn: (dir: string) => void, prefix = 'hwlat-store-'): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens a store on a real file in a fresh temp dir and closes it afterwards. */
export function withStore(fn: (store: SqliteStore, file: string) => void, prefix = 'hwlat-store-'): void {
  withTmp((dir) => {
    const file = path.join(dir, 'hwlat.sqlite');
    const store = openStore({ path: file });
    try {
      fn(store, file);
    } finally {
      store.close();
    }
  }, prefix);
}
