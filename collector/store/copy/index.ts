export { copyDatabase, type CopyOptions, type CopyProgress, type CopySummary } from './copy.ts';
export { CopySchemaError, CopyTargetNotEmptyError, CopyVerifyError } from './errors.ts';
export { TABLE_NAMES, type TableCounts, type TableName } from './tables.ts';
