import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { RuntimeInfo } from '../../protocol/index.ts';
import { runsPerSampleFor } from '../harness/timer.ts';
import { makeFeedsWith, type TensorClass } from './input-feeds.ts';
import type { BackendOptions, LoadedModel, RuntimeBackend } from './types.ts';

// What the onnxruntime-node and onnxruntime-web backends share: options, the loaded model, the
// backend's set of models. Both packages' sessions are onnxruntime-common's InferenceSession; the
// runtime itself comes in as `OrtRuntime`, so nothing here imports either package (the /agent page
// bundles this file, and Node loads onnxruntime-node only through ort-node.ts).

export const OPT_LEVELS = Object.freeze(['disabled', 'basic', 'extended', 'all'] as const);

/** BackendOptions with the defaults filled in and checked. */
export interface ResolvedOptions {
  provider: string;
  threads: number;
  graphOptimizationLevel: (typeof OPT_LEVELS)[number];
}

/** One onnxruntime package as the backends use it. */
export interface OrtRuntime {
  /** the package's name, for messages ('onnxruntime-node') */
  name: string;
  create(model: Uint8Array, options: InferenceSession.SessionOptions): Promise<InferenceSession>;
  /** the package's own Tensor class (each package registers its own copy of onnxruntime-common) */
  Tensor: TensorClass;
}

/** Checks BackendOptions against the providers a runtime offers and fills in the defaults. */
export function resolveOptions(options: BackendOptions, o: { runtime: string; providers: readonly string[]; defaultProvider: string }): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`'options' must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const provider = options.provider ?? o.defaultProvider;
  if (typeof provider !== 'string' || !o.providers.includes(provider)) {
    throw new RangeError(`'provider' ${JSON.stringify(provider)} is not an ${o.runtime} provider; known: ${o.providers.join(', ')}`);
  }
  const threads = options.threads ?? 0;
  if (typeof threads !== 'number') throw new TypeError(`'threads' must be a number, got ${typeof threads}`);
  if (!Number.isInteger(threads) || threads < 0) {
    throw new RangeError(`'threads' must be an integer >= 0 (0 = runtime default), got ${threads}`);
  }
  const level = options.graphOptimizationLevel ?? 'all';
  if (!OPT_LEVELS.includes(level)) {
    throw new RangeError(`'graphOptimizationLevel' must be one of ${OPT_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  return { provider, threads, graphOptimizationLevel: level };
}

/** An execution provider that failed to load, with the runtime's reason and what to do about it. */
export function providerLoadError(runtime: string, provider: string, cause: unknown, hint: string): Error {
  const why = (cause instanceof Error ? cause.message : String(cause)).trim();
  return new Error(`${runtime} could not load execution provider '${provider}': ${why}; ${hint}`, { cause });
}

/** Input tensors for every input of a session, made with the runtime's own Tensor class. */
export function sessionFeeds(runtime: OrtRuntime, session: InferenceSession): Record<string, Tensor> {
  return makeFeedsWith(runtime.Tensor, session);
}

/** A session with its inputs, timed as `runsPerSample` back-to-back runs per run(). */
export class OrtModel implements LoadedModel {
  runsPerSample = 1;
  private last: InferenceSession.OnnxValueMapType | null = null;

  constructor(
    private readonly session: InferenceSession,
    private readonly feeds: Record<string, Tensor>,
    private readonly onDispose: () => void,
  ) {}

  // the timed path: session.run awaited directly, no further call per inference
  async run(): Promise<void> {
    for (let i = 0; i < this.runsPerSample; i++) {
      const outputs = await this.session.run(this.feeds);
      // Dropping the data right away keeps memory flat over thousands of repeats; dims stay readable.
      for (const name in outputs) outputs[name]?.dispose();
      this.last = outputs;
    }
  }

  /** One inference, whatever runsPerSample is. */
  private async once(): Promise<void> {
    const outputs = await this.session.run(this.feeds);
    for (const name in outputs) outputs[name]?.dispose();
    this.last = outputs;
  }

  /**
   * Runs the model until the clock has ticked enough to estimate one run's time, then sets
   * runsPerSample so that one sample spans at least 100 ticks (1% rounding error at most).
   */
  async calibrate(resolutionMs: number): Promise<void> {
    await this.once(); // first run: allocation, WebGPU shader compilation
    const t0 = performance.now();
    let runs = 0;
    let elapsed = 0;
    // a model that spans 100 ticks in one run needs one run per sample: no need to run it more here
    // (a network on a software WebGPU adapter takes seconds)
    do {
      await this.once();
      runs++;
      elapsed = performance.now() - t0;
    } while (elapsed < 100 * resolutionMs && (runs < 3 || elapsed < 20 * resolutionMs) && runs < 1000);
    this.runsPerSample = runsPerSampleFor(elapsed / runs, resolutionMs);
  }

  async outputShapes(): Promise<Record<string, readonly number[]>> {
    if (this.last === null) await this.once();
    const shapes: Record<string, readonly number[]> = {};
    for (const [name, value] of Object.entries(this.last ?? {})) shapes[name] = [...value.dims];
    return shapes;
  }

  async dispose(): Promise<void> {
    this.onDispose();
    await this.session.release();
  }
}

/**
 * A backend over one runtime: each load() opens a session with the backend's options and its
 * input feeds, `prepare` (ort-web: the clock calibration) runs before the model is handed out,
 * and dispose() releases every model still loaded.
 */
export class OrtBackend implements RuntimeBackend {
  private readonly models = new Set<OrtModel>();

  constructor(
    readonly info: RuntimeInfo,
    private readonly runtime: OrtRuntime,
    private readonly options: InferenceSession.SessionOptions,
    private readonly prepare?: (model: OrtModel) => Promise<void>,
  ) {}

  async load(model: Uint8Array): Promise<LoadedModel> {
    if (!(model instanceof Uint8Array)) {
      throw new TypeError(`'model' must be a Uint8Array of ONNX bytes, got ${typeof model}`);
    }
    const session = await this.runtime.create(model, this.options);
    let loaded: OrtModel;
    try {
      loaded = new OrtModel(session, sessionFeeds(this.runtime, session), () => this.models.delete(loaded));
      await this.prepare?.(loaded);
    } catch (e) {
      await session.release();
      throw e;
    }
    this.models.add(loaded);
    return loaded;
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.models].map((m) => m.dispose()));
  }
}
