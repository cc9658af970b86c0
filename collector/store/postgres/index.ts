export { PostgresBackend } from './backend.ts';
export { MIN_SERVER_VERSION, isPostgresUrl, parsePostgresUrl, redact, type PostgresLocation } from './connect.ts';
export { PG_MIGRATIONS } from './migrations.ts';
export { openPostgresStore, type OpenPostgresOptions } from './open.ts';
export { PostgresStore } from './store.ts';
