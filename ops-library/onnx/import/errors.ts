/** Why an ONNX model could not be imported; every subclass names what was wrong. */
export class OnnxImportError extends Error {
  override readonly name: string = 'OnnxImportError';
}

/** The bytes are not an ONNX model, or a truncated or inconsistent one. */
export class OnnxFormatError extends OnnxImportError {
  override readonly name = 'OnnxFormatError';
}

/** Operators the importer cannot infer shapes for: all of them at once, each with its nodes. */
export class UnsupportedOperatorError extends OnnxImportError {
  override readonly name = 'UnsupportedOperatorError';
  constructor(readonly operators: ReadonlyArray<{ readonly op: string; readonly nodes: readonly string[] }>) {
    super(
      `unsupported ONNX operator${operators.length > 1 ? 's' : ''}: ${operators
        .map((o) => `${o.op} (node${o.nodes.length > 1 ? 's' : ''} ${o.nodes.slice(0, 3).map((n) => `'${n}'`).join(', ')}${o.nodes.length > 3 ? `, … ${o.nodes.length} in all` : ''})`)
        .join('; ')}`,
    );
  }
}

/** A graph input has a symbolic (or unknown) dimension and no `inputShape` was given for it. */
export class SymbolicDimensionError extends OnnxImportError {
  override readonly name = 'SymbolicDimensionError';
  constructor(
    readonly input: string,
    readonly dims: readonly (number | string)[],
  ) {
    super(
      `graph input '${input}' has symbolic dimensions [${dims.join(', ')}]; pass its concrete shape with --input-shape (e.g. --input-shape ${dims.map((d) => (typeof d === 'number' && d > 0 ? d : 1)).join('x')}), or the 'inputShape' option`,
    );
  }
}

/** A node's shapes cannot be inferred: inconsistent inputs, or a shape only known at run time. */
export class ShapeInferenceError extends OnnxImportError {
  override readonly name = 'ShapeInferenceError';
  constructor(
    readonly node: string,
    readonly op: string,
    reason: string,
  ) {
    super(`cannot infer the shapes of ${op} node '${node}': ${reason}`);
  }
}
