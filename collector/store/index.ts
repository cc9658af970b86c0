export type { DeviceSummary, InsertResult, MeasurementFilter, OpenStoreOptions, PassFinish, Store } from './types.ts';
export {
  MigrationError,
  StoreClosedError,
  StoreConflictError,
  StoreNotFoundError,
  StoreOpenError,
  StoreReferenceError,
  StoreValidationError,
} from './errors.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
export { checkMigrations, type AppliedMigration } from './migrate.ts';
export { openStore, SqliteStore } from './sqlite.ts';
