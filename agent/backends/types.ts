import type { RuntimeInfo } from '../../protocol/index.ts';

/** Options every runtime backend understands; backends ignore what does not apply to them. */
export interface BackendOptions {
  /** execution provider: 'cpu' (default), 'cuda', 'tensorrt', 'wasm', 'webgpu' */
  provider?: string;
  /** intra-op threads; 0 or undefined = the runtime's default */
  threads?: number;
  /** ONNX Runtime graph optimisation level */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

/** A model loaded into a runtime session, with its inputs already prepared. */
export interface LoadedModel {
  /** runs the model once on its prepared inputs (or `runsPerSample` times); resolves when the outputs are ready */
  run(): Promise<void>;
  /**
   * How many inferences one run() makes (default 1). A backend on a coarse clock (browsers round
   * performance.now() to 5-100 µs, some to 1 ms) runs a fast model several times per call, so that
   * one timed sample spans many clock ticks; the harness divides each sample by this count.
   */
  readonly runsPerSample?: number;
  /** output shapes of the last run (or of a run made now if none was), batch included */
  outputShapes(): Promise<Record<string, readonly number[]>>;
  dispose(): Promise<void>;
}

/** A runtime that can execute ONNX models on this device (onnxruntime-node, onnxruntime-web, …). */
export interface RuntimeBackend {
  /** what this backend measures with: name, provider, version, threads */
  readonly info: RuntimeInfo;
  load(model: Uint8Array): Promise<LoadedModel>;
  dispose(): Promise<void>;
}

/** Creates a backend for the given options; registered by name in the backend registry. */
export type BackendFactory = (options: BackendOptions) => Promise<RuntimeBackend>;
