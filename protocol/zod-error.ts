import { z } from 'zod';

/**
 * How hwlat reports input that failed a zod schema, written once: the first issue names the field
 * (a dotted path) and says what is wrong in one line, for an error reply or an exception; every
 * issue, as zod's own `z.prettifyError` text, rides along as the thrown error's `cause`.
 *
 * @example
 * describeZodError(r.error);            // { field: 'stats.median', message: 'stats.median: Too small: expected number to be >=0' }
 * describeZodError(r.error, '(body)');  // a schema-level issue (empty path) reads '(body): …'
 */
export function describeZodError(error: z.ZodError, whole = '(message)'): { field: string; message: string } {
  const issue = error.issues[0];
  const field = issue ? issue.path.map(String).join('.') : '';
  return { field, message: issue ? `${field || whole}: ${issue.message}` : error.message };
}

/**
 * A TypeError naming the argument and the field that failed, e.g.
 * `'runtime.threads' is invalid: Too small: expected number to be >=1`; `prefix` names the part
 * that checked it (`outbox: `). All issues are in its `cause`.
 */
export function invalidArgumentError(error: z.ZodError, argument: string, prefix = ''): TypeError {
  const issue = error.issues[0];
  const path = issue ? issue.path.map(String).join('.') : '';
  return new TypeError(`${prefix}'${argument}${path ? `.${path}` : ''}' is invalid: ${issue?.message ?? error.message}`, { cause: z.prettifyError(error) });
}
