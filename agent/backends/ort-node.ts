import * as ort from 'onnxruntime-node';
import type { RuntimeInfo } from '../../protocol/index.ts';
import type { BackendFactory, BackendOptions, LoadedModel, RuntimeBackend } from './types.ts';
import type { ProviderInfo } from './provider-info.ts';
import { makeFeeds } from './ort-feeds.ts';
import { probeModel } from './probe-model.ts';

const BACKEND_NAME = 'ort-node';
const OPT_LEVELS = Object.freeze(['disabled', 'basic', 'extended', 'all'] as const);

/** BackendOptions with the defaults filled in and checked. */
interface Resolved {
  provider: string;
  threads: number;
  graphOptimizationLevel: (typeof OPT_LEVELS)[number];
}

/** The onnxruntime-node version; env.versions.node is set when the package registers itself. */
export function ortNodeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

function knownProviders(): string[] {
  return ort.listSupportedBackends().map((b) => b.name);
}

function sessionOptions(opts: Resolved): ort.InferenceSession.SessionOptions {
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

function validate(options: BackendOptions): Resolved {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`'options' must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const provider = options.provider ?? 'cpu';
  const known = knownProviders();
  if (typeof provider !== 'string' || !known.includes(provider)) {
    throw new RangeError(`'provider' ${JSON.stringify(provider)} is not an onnxruntime-node provider; known: ${known.join(', ')}`);
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

function providerLoadError(provider: string, cause: unknown): Error {
  const why = (cause instanceof Error ? cause.message : String(cause)).trim();
  const hint =
    provider === 'cuda' || provider === 'tensorrt'
      ? "install the CUDA libraries with `hwlat setup --cuda`, or use provider 'cpu'"
      : provider === 'cpu'
        ? 'the onnxruntime-node install looks broken; reinstall it'
        : `check that this machine has the drivers '${provider}' needs, or use provider 'cpu'`;
  return new Error(`onnxruntime-node could not load execution provider '${provider}': ${why}; ${hint}`, { cause });
}

class OrtNodeModel implements LoadedModel {
  private last: ort.InferenceSession.OnnxValueMapType | null = null;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly feeds: Record<string, ort.Tensor>,
    private readonly onDispose: () => void,
  ) {}

  async run(): Promise<void> {
    const outputs = await this.session.run(this.feeds);
    // Dropping the data right away keeps memory flat over thousands of repeats; dims stay readable.
    for (const name in outputs) outputs[name]?.dispose();
    this.last = outputs;
  }

  async outputShapes(): Promise<Record<string, readonly number[]>> {
    if (this.last === null) await this.run();
    const shapes: Record<string, readonly number[]> = {};
    for (const [name, value] of Object.entries(this.last ?? {})) shapes[name] = [...value.dims];
    return shapes;
  }

  async dispose(): Promise<void> {
    this.onDispose();
    await this.session.release();
  }
}

class OrtNodeBackend implements RuntimeBackend {
  private readonly models = new Set<OrtNodeModel>();

  constructor(
    readonly info: RuntimeInfo,
    private readonly options: ort.InferenceSession.SessionOptions,
  ) {}

  async load(model: Uint8Array): Promise<LoadedModel> {
    if (!(model instanceof Uint8Array)) {
      throw new TypeError(`'model' must be a Uint8Array of ONNX bytes, got ${typeof model}`);
    }
    const session = await ort.InferenceSession.create(model, this.options);
    let feeds: Record<string, ort.Tensor>;
    try {
      feeds = makeFeeds(session);
    } catch (e) {
      await session.release();
      throw e;
    }
    const loaded: OrtNodeModel = new OrtNodeModel(session, feeds, () => this.models.delete(loaded));
    this.models.add(loaded);
    return loaded;
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.models].map((m) => m.dispose()));
  }
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
  const opts = validate(options);
  const sessionOpts = sessionOptions(opts);
  try {
    const probe = await ort.InferenceSession.create(probeModel(), sessionOpts);
    await probe.release();
  } catch (e) {
    throw providerLoadError(opts.provider, e);
  }
  const info: RuntimeInfo = { backend: BACKEND_NAME, provider: opts.provider, version: ortNodeVersion(), threads: opts.threads };
  return new OrtNodeBackend(Object.freeze(info), sessionOpts);
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
