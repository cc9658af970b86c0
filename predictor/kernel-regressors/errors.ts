/** A kernel regressor kind nobody registered: names it and lists the known ones. */
export class UnknownKernelRegressorError extends Error {
  constructor(readonly kind: string, readonly known: readonly string[]) {
    super(`unknown kernel regressor kind '${kind}'; known: ${known.join(', ')}`);
    this.name = 'UnknownKernelRegressorError';
  }
}

/** A saved regressor that does not have the shape its kind writes. */
export class KernelRegressorFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelRegressorFormatError';
  }
}
