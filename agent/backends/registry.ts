import type { BackendFactory, BackendOptions, RuntimeBackend } from './types.ts';

/**
 * Registered runtime backends by name. Each loads its module, and so its runtime, on first use:
 * importing the registry loads neither onnxruntime-node (a native addon) nor onnxruntime-web, and a
 * process that uses one never loads the other. Frozen: a backend is added here, never at run time.
 */
export const BACKENDS: Readonly<Record<string, BackendFactory>> = Object.freeze({
  'ort-node': async (options: BackendOptions) => (await import('./ort-node.ts')).createOrtNodeBackend(options),
  // onnxruntime-web's wasm in Node: what a browser runs, measured as a separate device
  'ort-web': async (options: BackendOptions) => (await import('./ort-web.ts')).createOrtWebBackend(options),
});

/** A backend spec string split into its parts: 'ort-node:cuda' → { name: 'ort-node', provider: 'cuda' }. */
export interface BackendSpec {
  name: string;
  provider?: string;
}

function unknownBackend(name: string): RangeError {
  return new RangeError(`unknown backend '${name}'; known backends: ${Object.keys(BACKENDS).join(', ')}`);
}

/**
 * Parses 'name' or 'name:provider'. The name must be registered; the provider is checked by
 * the backend itself when it is created, since only it knows which providers it can load.
 *
 * @example
 * parseBackendSpec('ort-node:cpu'); // { name: 'ort-node', provider: 'cpu' }
 * parseBackendSpec('ort-node');     // { name: 'ort-node' }
 */
export function parseBackendSpec(spec: string): BackendSpec {
  if (typeof spec !== 'string') {
    throw new TypeError(`'spec' must be a string like 'ort-node:cpu', got ${typeof spec}`);
  }
  const parts = spec.trim().split(':');
  const [name, provider] = parts;
  if (parts.length > 2 || !name || provider === '') {
    throw new RangeError(`'spec' must look like 'backend' or 'backend:provider', got '${spec}'`);
  }
  if (!Object.hasOwn(BACKENDS, name)) throw unknownBackend(name);
  return provider === undefined ? { name } : { name, provider };
}

/**
 * Creates a registered backend. `name` may be a spec with a provider ('ort-node:cpu'); a
 * provider in both the spec and the options must agree.
 *
 * @example
 * const backend = await createBackend('ort-node', { provider: 'cpu', threads: 1 });
 * console.log(backend.info); // { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 }
 * await backend.dispose();
 */
export async function createBackend(name: string, options: BackendOptions = {}): Promise<RuntimeBackend> {
  const spec = parseBackendSpec(name);
  if (spec.provider !== undefined && options.provider !== undefined && options.provider !== spec.provider) {
    throw new RangeError(`'options.provider' is '${options.provider}' but the spec '${name}' names '${spec.provider}'`);
  }
  const factory = BACKENDS[spec.name];
  if (factory === undefined) throw unknownBackend(spec.name);
  return factory(spec.provider === undefined ? options : { ...options, provider: spec.provider });
}

/** Names of the registered backends, in registration order. */
export function listBackends(): string[] {
  return Object.keys(BACKENDS);
}
