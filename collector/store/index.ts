export type {
  CampaignInput,
  CompleteJobInput,
  CompleteOutcome,
  CompleteJobsItem,
  DeviceSummary,
  ExtendLeasesOptions,
  FailJobInput,
  FailOutcome,
  InsertResult,
  JobFilter,
  JobRecord,
  JobState,
  JobStatus,
  KernelProfileFilter,
  LeaseGrant,
  LeaseOptions,
  MeasurementFilter,
  NewCampaign,
  NewResult,
  PassFinish,
  ReleaseLeasesOptions,
  Store,
  StoreBackend,
  StoredTimedKernel,
  TaskIdentity,
  TimedKernelFilter,
} from './types.ts';
export {
  MigrationError,
  StoreClosedError,
  StoreConflictError,
  StoreJobStateError,
  StoreNotFoundError,
  StoreOpenError,
  StoreReferenceError,
  StoreUnavailableError,
  StoreValidationError,
  type JobStateErrorCode,
} from './errors.ts';
export { DISTURBED_RETRY_MS, MAX_DISTURBED_REQUEUES, MAX_JOB_FAILURES, PERSISTENT_DISTURBED_SHARE, PERSISTENT_WINDOW } from './job-rules.ts';
export { CheckedStore, checkedStore } from './checked.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
export { checkMigrations, type AppliedMigration } from './migrate.ts';
export { openStore, SqliteStore, type OpenStoreOptions } from './sqlite/index.ts';
export { openStoreAt, storeKind, type OpenStoreAtOptions } from './open.ts';
export { MIN_SERVER_VERSION, PG_MIGRATIONS, PostgresStore, isPostgresUrl, openPostgresStore, type OpenPostgresOptions } from './postgres/index.ts';
