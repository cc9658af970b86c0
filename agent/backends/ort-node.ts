import * as ort from 'onnxruntime-node';
import type { RuntimeInfo } from '../../protocol/index.ts';
import type { BackendFactory, BackendOptions } from './types.ts';
import type { ProviderInfo } from './provider-info.ts';
import type { TensorClass } from './input-feeds.ts';
import { makeFeeds } from './ort-feeds.ts';
import { OrtBackend, providerLoadError, resolveOptions, type OrtRuntime, type ResolvedOptions } from './ort-session.ts';
import { probeModel } from './probe-model.ts';

const BACKEND_NAME = 'ort-node';
const RUNTIME: OrtRuntime = { name: 'onnxruntime-node', create: (model, options) => ort.InferenceSession.create(model, options), Tensor: ort.Tensor as unknown as TensorClass };

/** The onnxruntime-node version; env.versions.node is set when the package registers itself. */
export function ortNodeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

function knownProviders(): string[] {
  return ort.listSupportedBackends().map((b) => b.name);
}

function sessionOptions(opts: ResolvedOptions): ort.InferenceSession.SessionOptions {
  return {
    // Only the requested provider: a silent fall-back to CPU would record CPU latencies under a GPU label.
    executionProviders: [opts.provider],
    graphOptimizationLevel: opts.graphOptimizationLevel,
    // One op at a time: inter-op parallelism makes a layer's latency depend on its neighbours.
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(opts.threads > 0 ? { intraOpNumThreads: opts.threads } : {}),
  };
}

function loadHint(provider: string): string {
  return provider === 'cuda' || provider === 'tensorrt'
    ? "install the CUDA libraries with `hwlat setup --cuda`, or use provider 'cpu'"
    : provider === 'cpu'
      ? 'the onnxruntime-node install looks broken; reinstall it'
      : `check that this machine has the drivers '${provider}' needs, or use provider 'cpu'`;
}

/**
 * Creates an onnxruntime-node backend. The provider is checked at once by loading a one-node
 * probe model, so a missing CUDA library fails here and not halfway through a pass.
 *
 * @example
 * const backend = await createOrtNodeBackend({ provider: 'cpu', threads: 1 });
 * const model = await backend.load(probeModel());
 * await model.run();
 * console.log(backend.info, await model.outputShapes()); // { y: [1, 16] }
 * await backend.dispose();
 */
export const createOrtNodeBackend: BackendFactory = async (options: BackendOptions = {}) => {
  const opts = resolveOptions(options, { runtime: RUNTIME.name, providers: knownProviders(), defaultProvider: 'cpu' });
  const sessionOpts = sessionOptions(opts);
  try {
    const probe = await ort.InferenceSession.create(probeModel(), sessionOpts);
    await probe.release();
  } catch (e) {
    throw providerLoadError(RUNTIME.name, opts.provider, e, loadHint(opts.provider));
  }
  const info: RuntimeInfo = { backend: BACKEND_NAME, provider: opts.provider, version: ortNodeVersion(), threads: opts.threads };
  return new OrtBackend(Object.freeze(info), RUNTIME, sessionOpts);
};

/**
 * Tries every execution provider this onnxruntime-node build knows by creating and running the
 * probe model with it. Never throws for a provider that fails: that is what it reports.
 * A failing provider may also print onnxruntime's own native error line on stderr.
 *
 * @example
 * for (const p of await listProviders()) console.log(p.name, p.loads ? 'ok' : p.error);
 * // cpu ok / cuda OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library / …
 */
export async function listProviders(): Promise<ProviderInfo[]> {
  const bytes = probeModel();
  const out: ProviderInfo[] = [];
  for (const { name, bundled } of ort.listSupportedBackends()) {
    try {
      const session = await ort.InferenceSession.create(bytes, { executionProviders: [name] });
      try {
        await session.run(makeFeeds(session));
      } finally {
        await session.release();
      }
      out.push({ name, bundled, loads: true });
    } catch (e) {
      const error = (e instanceof Error ? e.message : String(e)).trim();
      out.push({ name, bundled, loads: false, error });
    }
  }
  return out;
}
