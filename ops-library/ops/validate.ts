import { ACTIVATIONS } from '../prim-graph.ts';
import { assertChw, assertPositiveInt } from '../shape.ts';

// Small field checks shared by the op definitions; each names the field it rejects.

export { assertChw, assertPositiveInt };

export function optPositiveInt(value: unknown, what: string): void {
  if (value !== undefined) assertPositiveInt(value, what);
}

export function optNonNegativeInt(value: unknown, what: string): void {
  if (value !== undefined && (!Number.isInteger(value) || (value as number) < 0)) {
    throw new RangeError(`'${what}' must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): asserts value is T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new RangeError(`'${what}' must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
  }
}

export function optActivation(value: unknown, what: string): void {
  if (value !== undefined) oneOf(value, [...ACTIVATIONS, 'none'], what);
}

export function optBoolean(value: unknown, what: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`'${what}' must be a boolean, got ${JSON.stringify(value)}`);
  }
}
