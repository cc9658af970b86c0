import { UnknownKernelRegressorError } from './errors.ts';
import { logLinearKind } from './log-linear.ts';
import { randomForestKind } from './random-forest.ts';
import type { KernelRegressorKind } from './types.ts';

const kinds = new Map<string, KernelRegressorKind>([
  [logLinearKind.name, logLinearKind],
  [randomForestKind.name, randomForestKind],
]);

/** Adds a kind (a project's own regressor); a name already taken is a RangeError. */
export function registerKernelRegressorKind(kind: KernelRegressorKind): void {
  if (kinds.has(kind.name)) throw new RangeError(`kernel regressor kind '${kind.name}' is already registered`);
  kinds.set(kind.name, kind);
}

/** The kind registered as `name`, or UnknownKernelRegressorError listing the known ones. */
export function kernelRegressorKind(name: string): KernelRegressorKind {
  const k = kinds.get(name);
  if (!k) throw new UnknownKernelRegressorError(name, [...kinds.keys()]);
  return k;
}

export function kernelRegressorKinds(): string[] {
  return [...kinds.keys()];
}
