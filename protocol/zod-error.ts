import { z } from 'zod';

/**
 * How hwlat reports input that failed a zod schema, written once: the first issue names the field
 * and says what is wrong in one line, for an error reply, an exception or a log line. Thrown
 * TypeErrors carry every issue, as zod's own `z.prettifyError` text, in their `cause`.
 */

/**
 * The first issue of a failed parse: its path, its message (the error's own when it holds no
 * issue) and how many issues follow it. Every formatter below reads the error through this.
 *
 * @example
 * firstZodIssue(r.error); // { path: ['stats', 'median'], message: 'Too small: expected number to be >=0', more: 0 }
 */
export function firstZodIssue(error: z.ZodError): { path: readonly PropertyKey[]; message: string; more: number } {
  const [issue, ...rest] = error.issues;
  return { path: issue?.path ?? [], message: issue?.message ?? error.message, more: rest.length };
}

/** The dotted field of an issue path, as replies and argument errors name it: `stats.median`, `3.id`. */
function dottedField(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/**
 * The field that failed and a one-line message, for an error reply.
 *
 * @example
 * describeZodError(r.error);            // { field: 'stats.median', message: 'stats.median: Too small: expected number to be >=0' }
 * describeZodError(r.error, '(body)');  // a schema-level issue (empty path) reads '(body): …'
 */
export function describeZodError(error: z.ZodError, whole = '(message)'): { field: string; message: string } {
  if (error.issues.length === 0) return { field: '', message: error.message };
  const { path, message } = firstZodIssue(error);
  const field = dottedField(path);
  return { field, message: `${field || whole}: ${message}` };
}

/**
 * A TypeError naming the argument and the field that failed, e.g.
 * `'runtime.threads' is invalid: Too small: expected number to be >=1`; `prefix` names the part
 * that checked it (`outbox: `). All issues are in its `cause`.
 */
export function invalidArgumentError(error: z.ZodError, argument: string, prefix = ''): TypeError {
  const { path, message } = firstZodIssue(error);
  const field = dottedField(path);
  return new TypeError(`${prefix}'${argument}${field ? `.${field}` : ''}' is invalid: ${message}`, { cause: z.prettifyError(error) });
}

/**
 * The store's way of naming a field inside an argument, appended to the argument's name: array
 * items by index in brackets. `['stats', 'median']` → `.stats.median`; `[3, 'id']` → `[3].id`.
 */
export function zodIssuePathSuffix(path: readonly PropertyKey[]): string {
  return path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
}
