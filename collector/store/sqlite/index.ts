export { openStore } from './open.ts';
export { SqliteStore } from './store.ts';
export { SqliteBackend } from './backend.ts';
export type { OpenStoreOptions } from './types.ts';
