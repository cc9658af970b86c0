/**
 * One kernel a runtime executes, as the runtime names it: an operator of its optimised graph
 * (e.g. ORT's `FusedConv` with `activation: 'Relu'`, `com.microsoft.nchwc:Conv`, `ReorderInput`)
 * with concrete shapes. Kernel detection predicts a list of these for a model and a runtime;
 * agents report the same records, timed in context, from the runtime's own optimised graph and
 * profiler. Both sides use this one type, so a predicted kernel and a measured one compare field
 * by field and reach the per-kernel predictors through one feature definition.
 */
export interface RuntimeKernel {
  /** op type, qualified with its domain when not the default ONNX domain: 'Conv', 'com.microsoft:FusedConv', 'com.microsoft.nchwc:Conv' */
  readonly op: string;
  /** attributes that change the cost (kernel_shape, strides, pads, dilations, group, activation, …); ints and floats as numbers */
  readonly attrs: Readonly<Record<string, number | string | readonly number[]>>;
  /** shapes of the node's inputs in order (data, then weights/bias), batch included; [] for an absent optional input */
  readonly inputs: readonly (readonly number[])[];
  /** shapes of its outputs, batch included */
  readonly outputs: readonly (readonly number[])[];
  /** names of the source-graph nodes this kernel covers (fused ones included), for the per-kernel breakdown */
  readonly nodes: readonly string[];
}

/** A runtime kernel with the time it took in context (inside the whole network's run). */
export interface TimedKernel extends RuntimeKernel {
  /** the runtime's node name in its optimised graph */
  readonly name: string;
  /** median per-run time in ms over the profiled runs */
  readonly ms: number;
}
