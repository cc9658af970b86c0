import * as ort from 'onnxruntime-web';
import type { RuntimeInfo } from '../../protocol/index.ts';
import { timerResolutionMs } from '../harness/timer.ts';
import type { TensorClass } from './input-feeds.ts';
import { OrtBackend, providerLoadError, resolveOptions, sessionFeeds, type OrtRuntime, type ResolvedOptions } from './ort-session.ts';
import { probeModel } from './probe-model.ts';
import type { BackendFactory, BackendOptions } from './types.ts';

// One file for Node and the browser: in Node `onnxruntime-web` resolves to its Node build (wasm
// only), in the page bundle (esbuild, platform browser) to the browser build (wasm and WebGPU).
// Nothing here may import a Node module: the /agent page bundles this file.

const BACKEND_NAME = 'ort-web';
/** Providers measured through this backend. onnxruntime-web also has webgl and webnn; not measured yet. */
export const ORT_WEB_PROVIDERS: readonly string[] = Object.freeze(['wasm', 'webgpu']);
const RUNTIME: OrtRuntime = { name: 'onnxruntime-web', create: (model, options) => ort.InferenceSession.create(model, options), Tensor: ort.Tensor as unknown as TensorClass };

/** The onnxruntime-web version. */
export function ortWebVersion(): string {
  return ort.env.versions.web ?? ort.env.versions.common;
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

function sessionOptions(opts: ResolvedOptions): ort.InferenceSession.SessionOptions {
  return {
    // Only the requested provider: onnxruntime-web still runs ops WebGPU lacks on wasm inside the
    // session (per node), but never swaps the whole session to wasm under a webgpu label.
    executionProviders: [opts.provider],
    graphOptimizationLevel: opts.graphOptimizationLevel,
    executionMode: 'sequential',
  };
}

function loadHint(provider: string): string {
  return provider === 'webgpu'
    ? 'WebGPU needs a browser with navigator.gpu and an adapter (a secure context: https or localhost; Chromium flag --enable-unsafe-webgpu where it is off); use provider wasm otherwise'
    : "check that onnxruntime-web's .wasm files are reachable (env.wasm.wasmPaths in a browser)";
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
  const opts = resolveOptions(options, { runtime: RUNTIME.name, providers: ORT_WEB_PROVIDERS, defaultProvider: 'wasm' });
  const sessionOpts = sessionOptions(opts);
  const threads = setUpThreads(opts.threads);
  try {
    const probe = await ort.InferenceSession.create(probeModel(), sessionOpts);
    try {
      await probe.run(sessionFeeds(RUNTIME, probe));
    } finally {
      await probe.release();
    }
  } catch (e) {
    throw providerLoadError(RUNTIME.name, opts.provider, e, loadHint(opts.provider));
  }
  const info: RuntimeInfo = { backend: BACKEND_NAME, provider: opts.provider, version: ortWebVersion(), threads };
  // performance.now()'s grain here, measured once: each model's runs per sample are set from it
  const resolutionMs = timerResolutionMs();
  const backend = new OrtBackend(Object.freeze(info), RUNTIME, sessionOpts, (model) => model.calibrate(resolutionMs));
  return Object.assign(backend, { timerResolutionMs: resolutionMs });
};
