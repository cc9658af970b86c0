import Database from 'better-sqlite3';
import { StoreUnavailableError } from '../errors.ts';

/**
 * SQLite result codes (extended ones included, e.g. SQLITE_IOERR_WRITE) that say the database
 * cannot be used now, not that the call was wrong: a full disk, an I/O error, a file that turned
 * read-only, a lock held past the busy timeout, no memory.
 */
const UNAVAILABLE_CODES = /^SQLITE_(FULL|IOERR|READONLY|BUSY|LOCKED|CANTOPEN|NOMEM)(_|$)/;

/** The StoreUnavailableError an error from better-sqlite3 stands for, or null when it is another error. */
export function asUnavailable(path: string, method: string, err: unknown): StoreUnavailableError | null {
  if (!(err instanceof Database.SqliteError) || !UNAVAILABLE_CODES.test(err.code)) return null;
  return new StoreUnavailableError(path, method, err.code, err.message, { cause: err });
}

/**
 * Wraps every public method of a store class so that an unavailable database surfaces as
 * StoreUnavailableError, whichever method hit it. One wrapper rather than a try/catch in each of
 * some thirty methods: a method added later is covered too. A method may throw or return a
 * promise that rejects (the backend's methods are async); both are mapped.
 */
export function guardUnavailable(cls: { prototype: object }, pathOf: (self: never) => string): void {
  const proto = cls.prototype as Record<string, unknown>;
  for (const method of Object.getOwnPropertyNames(proto)) {
    const desc = Object.getOwnPropertyDescriptor(proto, method);
    if (method === 'constructor' || typeof desc?.value !== 'function') continue;
    const original = desc.value as (...args: unknown[]) => unknown;
    Object.defineProperty(proto, method, {
      ...desc,
      value: function guarded(this: never, ...args: unknown[]): unknown {
        const map = (err: unknown): never => {
          throw asUnavailable(pathOf(this), method, err) ?? err;
        };
        try {
          const result = original.apply(this, args);
          return result instanceof Promise ? result.catch(map) : result;
        } catch (err) {
          return map(err);
        }
      },
    });
  }
}
