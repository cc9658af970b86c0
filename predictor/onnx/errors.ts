/** The bytes are not an ONNX model this decomposer can read (not protobuf, no graph, no input shape). */
export class OnnxFormatError extends TypeError {
  override readonly name = 'OnnxFormatError';
}

/**
 * The graph holds operators with no ops-library spec: they are listed all at once (with the
 * supported ones), never skipped, so a prediction never silently leaves out part of a model.
 */
export class UnsupportedOnnxError extends RangeError {
  override readonly name = 'UnsupportedOnnxError';
  constructor(
    readonly opTypes: readonly string[],
    readonly supported: readonly string[],
  ) {
    super(`unsupported ONNX operators: ${opTypes.join(', ')}; supported: ${supported.join(', ')}`);
  }
}
