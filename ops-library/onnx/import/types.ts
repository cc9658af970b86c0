/**
 * The ops-library IR of an imported model: ONNX's operators with every tensor's shape known and
 * every constant sub-computation folded away. Kernel detection (ops-library/kernels) turns it into
 * the kernels a runtime executes; its ops, attributes and shapes use the same conventions as
 * `RuntimeKernel` (op qualified by domain when not ONNX's own, shapes with the batch dimension).
 */

/** Element types, named as onnxruntime names them. */
export type DType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64'
  | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'bool' | 'string';

/** An attribute value: ints and floats as numbers, lists as arrays. */
export type AttrValue = number | string | readonly number[] | readonly string[];
export type Attrs = Readonly<Record<string, AttrValue>>;

/** One tensor of the graph. */
export interface IrValue {
  readonly name: string;
  readonly dtype: DType;
  /** concrete dimensions, batch included */
  readonly shape: readonly number[];
  /** known before the run: an initializer (weights) or a folded computation */
  readonly constant: boolean;
  /**
   * The elements of a small constant (at most `SMALL_TENSOR_ELEMENTS`), row-major, as numbers
   * (bool as 0/1): what shape tensors, Clip bounds and fusion patterns need. Absent for weights,
   * for stripped data and for every non-constant.
   */
  readonly data?: readonly number[];
  /** every element of a constant too large to keep `data` for is this value (a folded ConstantOfShape) */
  readonly fill?: number;
}

/** One operator of the graph, after constant folding (so at least one input is not a constant). */
export interface IrNode {
  /** the node's name in the source model (or `<op>_<index>` where it had none) */
  readonly name: string;
  /** op type, qualified with its domain when not the default ONNX domain */
  readonly op: string;
  /**
   * Attributes with ONNX's defaults filled in where they change the shape or the cost
   * (Conv and pools: kernel_shape, strides, pads, dilations, group; auto_pad resolved into pads).
   */
  readonly attrs: Attrs;
  /** value names in input order; '' for an absent optional input */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface IrGraph {
  /** the default-domain opset the model was written for */
  readonly opset: number;
  /** the run-time inputs (initializers listed as inputs excluded) */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** topologically ordered */
  readonly nodes: readonly IrNode[];
  readonly values: ReadonlyMap<string, IrValue>;
}

/** Tensors with at most this many elements keep their data through import and `stripOnnx`. */
export const SMALL_TENSOR_ELEMENTS = 4096;

export interface ImportOptions {
  /**
   * Concrete shapes for the graph inputs (batch included), for models exported with symbolic
   * dimensions: one shape for a single-input model, or shapes by input name.
   */
  inputShape?: readonly number[] | Readonly<Record<string, readonly number[]>>;
}
