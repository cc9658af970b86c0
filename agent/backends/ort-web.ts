import * as ort from 'onnxruntime-web';
import type { RuntimeInfo } from '../../protocol/index.ts';
import { runsPerSampleFor, timerResolutionMs } from '../harness/timer.ts';
import { makeFeedsWith, type TensorClass } from './input-feeds.ts';
import { probeModel } from './probe-model.ts';
import type { BackendFactory, BackendOptions, LoadedModel, RuntimeBackend } from './types.ts';

// One file for Node and the browser: in Node `onnxruntime-web` resolves to its Node build (wasm
// only), in the page bundle (esbuild, platform browser) to the browser build (wasm and WebGPU).
// Nothing here may import a Node module: the /agent page bundles this file.

const BACKEND_NAME = 'ort-web';
/** Providers measured through this backend. onnxruntime-web also has webgl and webnn; not measured yet. */
export const ORT_WEB_PROVIDERS: readonly string[] = Object.freeze(['wasm', 'webgpu']);
const OPT_LEVELS = Object.freeze(['disabled', 'basic', 'extended', 'all'] as const);

/** The onnxruntime-web version. */
export function ortWebVersion(): string {
  return ort.env.versions.web ?? ort.env.versions.common;
}

interface Resolved {
  provider: string;
  threads: number;
  graphOptimizationLevel: (typeof OPT_LEVELS)[number];
}

function validate(options: BackendOptions): Resolved {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`'options' must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const provider = options.provider ?? 'wasm';
  if (typeof provider !== 'string' || !ORT_WEB_PROVIDERS.includes(provider)) {
    throw new RangeError(`'provider' ${JSON.stringify(provider)} is not an onnxruntime-web provider; known: ${ORT_WEB_PROVIDERS.join(', ')}`);
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

/** Whether wasm threads can run: browsers need SharedArrayBuffer, i.e. a cross-origin isolated page. */
function threadsPossible(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean; window?: unknown };
  if (typeof SharedArrayBuffer === 'undefined') return false;
  return g.window === undefined || g.crossOriginIsolated === true;
}

/** Threads the wasm runtime is set up with. onnxruntime-web reads env.wasm.numThreads once, at its first session. */
let wasmThreads: number | null = null;

/**
 * Sets the wasm runtime's threads once per process (page) and returns them; a later call asking
 * for another count throws. Exported for ort-web-kernels.ts, whose sessions share the runtime.
 */
export function setUpThreads(requested: number): number {
  // 0 = runtime default: onnxruntime-web takes half the cores, at most 4, where threads are possible
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  const wanted = !threadsPossible() ? 1 : requested > 0 ? requested : Math.max(1, Math.min(4, Math.ceil(cores / 2)));
  if (wasmThreads !== null) {
    if (wanted !== wasmThreads) {
      throw new RangeError(`'threads' is ${requested} but onnxruntime-web already runs with ${wasmThreads} thread(s) in this process; it cannot be changed once started`);
    }
    return wasmThreads;
  }
  ort.env.wasm.numThreads = wanted;
  wasmThreads = wanted;
  return wanted;
}

function sessionOptions(opts: Resolved): ort.InferenceSession.SessionOptions {
  return {
    // Only the requested provider: onnxruntime-web still runs ops WebGPU lacks on wasm inside the
    // session (per node), but never swaps the whole session to wasm under a webgpu label.
    executionProviders: [opts.provider],
    graphOptimizationLevel: opts.graphOptimizationLevel,
    executionMode: 'sequential',
  };
}

function providerLoadError(provider: string, cause: unknown): Error {
  const why = (cause instanceof Error ? cause.message : String(cause)).trim();
  const hint =
    provider === 'webgpu'
      ? 'WebGPU needs a browser with navigator.gpu and an adapter (a secure context: https or localhost; Chromium flag --enable-unsafe-webgpu where it is off); use provider wasm otherwise'
      : "check that onnxruntime-web's .wasm files are reachable (env.wasm.wasmPaths in a browser)";
  return new Error(`onnxruntime-web could not load execution provider '${provider}': ${why}; ${hint}`, { cause });
}

class OrtWebModel implements LoadedModel {
  runsPerSample = 1;
  private last: ort.InferenceSession.OnnxValueMapType | null = null;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly feeds: Record<string, ort.Tensor>,
    private readonly onDispose: () => void,
  ) {}

  private async once(): Promise<void> {
    const outputs = await this.session.run(this.feeds);
    for (const name in outputs) outputs[name]?.dispose();
    this.last = outputs;
  }

  async run(): Promise<void> {
    for (let i = 0; i < this.runsPerSample; i++) await this.once();
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

class OrtWebBackend implements RuntimeBackend {
  private readonly models = new Set<OrtWebModel>();

  constructor(
    readonly info: RuntimeInfo,
    private readonly options: ort.InferenceSession.SessionOptions,
    /** performance.now()'s grain here, measured once */
    readonly timerResolutionMs: number,
  ) {}

  async load(model: Uint8Array): Promise<LoadedModel> {
    if (!(model instanceof Uint8Array)) {
      throw new TypeError(`'model' must be a Uint8Array of ONNX bytes, got ${typeof model}`);
    }
    const session = await ort.InferenceSession.create(model, this.options);
    let loaded: OrtWebModel;
    try {
      const feeds = makeFeedsWith(ort.Tensor as unknown as TensorClass, session) as Record<string, ort.Tensor>;
      loaded = new OrtWebModel(session, feeds, () => this.models.delete(loaded));
      await loaded.calibrate(this.timerResolutionMs);
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

/**
 * Creates an onnxruntime-web backend: provider 'wasm' (Node and browsers) or 'webgpu' (browsers
 * with an adapter). The provider is checked at once with the probe model. Models are timed with
 * `runsPerSample` inferences per sample, chosen per model from the clock's resolution (browsers
 * coarsen performance.now(); see agent/harness/timer.ts). `threads` is fixed for the process (or
 * page) by the first backend; browsers run 1 thread unless the page is cross-origin isolated.
 *
 * @example
 * const backend = await createOrtWebBackend({ provider: 'wasm', threads: 1 });
 * const model = await backend.load(probeModel());
 * await model.run();
 * console.log(backend.info, await model.outputShapes()); // { backend: 'ort-web', provider: 'wasm', … } { output: [1, 16] }
 * await backend.dispose();
 */
export const createOrtWebBackend: BackendFactory = async (options: BackendOptions = {}) => {
  const opts = validate(options);
  const sessionOpts = sessionOptions(opts);
  const threads = setUpThreads(opts.threads);
  try {
    const probe = await ort.InferenceSession.create(probeModel(), sessionOpts);
    try {
      await probe.run(makeFeedsWith(ort.Tensor as unknown as TensorClass, probe) as Record<string, ort.Tensor>);
    } finally {
      await probe.release();
    }
  } catch (e) {
    throw providerLoadError(opts.provider, e);
  }
  const info: RuntimeInfo = { backend: BACKEND_NAME, provider: opts.provider, version: ortWebVersion(), threads };
  return new OrtWebBackend(Object.freeze(info), sessionOpts, timerResolutionMs());
};
