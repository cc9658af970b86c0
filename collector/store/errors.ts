/**
 * Errors every Store implementation throws. They belong to the interface, not to SQLite: a
 * PostgreSQL store must throw the same classes so callers (the ws endpoint, the CLI) can map them
 * to replies without knowing which database is behind the seam.
 */

/** The database could not be opened; the message names the path and the reason. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot open database '${path}': ${reason}`, options);
  }
}

/** A method was called after close(). */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
  constructor(
    readonly path: string,
    readonly method: string,
  ) {
    super(`${method}: store '${path}' is closed`);
  }
}

/**
 * An argument failed validation. `argument` is the dotted path of the offending value, index
 * included (e.g. `measurements[3].stats.median`), so a caller can tell an agent which field of
 * which result was wrong. Extends TypeError: it is the caller's input, not the store, that is bad.
 */
export class StoreValidationError extends TypeError {
  override readonly name = 'StoreValidationError';
  constructor(
    readonly argument: string,
    readonly reason: string,
  ) {
    super(`invalid ${argument}: ${reason}`);
  }
}

/**
 * A row refers to something the store does not hold (a measurement of an unknown device or pass),
 * or to a pass of another device. Nothing of the batch was written.
 */
export class StoreReferenceError extends Error {
  override readonly name = 'StoreReferenceError';
  constructor(
    readonly argument: string,
    reason: string,
  ) {
    super(`${argument}: ${reason}`);
  }
}

/** An update names a row that does not exist (e.g. finishPass of an unknown pass). */
export class StoreNotFoundError extends Error {
  override readonly name = 'StoreNotFoundError';
  constructor(
    readonly what: string,
    readonly id: string,
    method: string,
  ) {
    super(`${method}: unknown ${what} '${id}'`);
  }
}

/** A create names an existing row whose content differs (e.g. a pass id reused by another device). */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
  constructor(
    readonly what: string,
    readonly id: string,
    reason: string,
  ) {
    super(`${what} '${id}' already exists: ${reason}`);
  }
}

/** A schema migration failed or the database and the code disagree about the schema. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`database '${path}': ${message}`, options);
  }
}

/** Why completeJob refused a result or failJob a failure: the names match the protocol's error codes. */
export type JobStateErrorCode = 'wrong_device' | 'not_leased';

/**
 * A result cannot complete its job in the job's present state: the job belongs to another device
 * (`wrong_device`), or it was never leased to anyone (`not_leased`), so no agent can have been
 * asked to measure it. Likewise a failure report (failJob) for a job of another device, or one the
 * reporting agent does not hold a lease on (`not_leased`). Nothing was written. `code` is the
 * protocol error code for the reply.
 */
export class StoreJobStateError extends Error {
  override readonly name = 'StoreJobStateError';
  constructor(
    readonly code: JobStateErrorCode,
    readonly jobId: string,
    reason: string,
  ) {
    super(`job '${jobId}': ${reason}`);
  }
}

/**
 * The database cannot be used now: the disk is full, an I/O error, the file turned read-only, or
 * it stayed locked past the busy timeout. Nothing of the call was written (its transaction rolled
 * back), and the same call may succeed later: callers answer "try again" (the ws endpoint's
 * `store_unavailable`, HTTP 503) and report themselves unhealthy meanwhile. `code` is the
 * backend's own (e.g. SQLITE_FULL).
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly path: string,
    readonly method: string,
    readonly code: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${method}: store '${path}' is unavailable (${code}: ${reason}); nothing was written, try again later`, options);
  }
}
