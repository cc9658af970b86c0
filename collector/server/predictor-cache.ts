import { getSpace, spaceUnits, type SearchSpace } from '../../ops-library/index.ts';
import type { LatencyPredictor, TrainOptions } from '../../predictor/index.ts';
import { predictorFor, trainingData } from '../training-data.ts';
import type { Store } from '../store/index.ts';
import { HttpError, unknownDevice } from './http.ts';

/** Where a served predictor came from: a `--model` directory, or trained from the store. */
export type PredictorSource = 'preloaded' | 'store';

export interface ServedPredictor {
  predictor: LatencyPredictor;
  source: PredictorSource;
  /** the device's measurement count the predictor was built at (null: preloaded) */
  measurements: number | null;
}

/** What a store-built predictor may be trained with besides its data (tests shorten epochs). */
export type ServeTrainOptions = Partial<Pick<TrainOptions, 'epochs' | 'l2' | 'validationShare' | 'encodingBaseline'>>;

export interface PredictorCacheOptions {
  store: Store;
  /** predictors loaded from `hwlat serve --model DIR`: they win over the store for their (device, space) */
  preloaded?: readonly LatencyPredictor[];
  train?: ServeTrainOptions;
  /**
   * share of serving time the staleness check may take (default 0.01): the device's measurement
   * count is an indexed COUNT whose cost grows with the device's measurements (0.5 ms at 10k,
   * 18 ms at 300k here), so after a check that took c ms the next one waits c / share ms (at most
   * 2 s). 0 checks on every request.
   */
  recheckShare?: number;
  /**
   * per-device data versions that every replica's writes advance (collector/events DataVersions):
   * a cached predictor whose device's version moved is checked on the next request, whatever
   * `recheckShare` allows, so data another replica stored is served at once
   */
  versions?: { version(deviceId: string): number };
  log?: (event: Record<string, unknown>) => void;
}

interface Entry {
  /** the device's measurement count when the build started */
  count: number;
  /** the device's data version when the count was read (0 without versions) */
  version: number;
  promise: Promise<ServedPredictor>;
  settled: boolean;
  /** performance.now() before which the count is not checked again */
  nextCheck: number;
}

/** The longest a cached predictor is served without checking the device's measurement count. */
const MAX_RECHECK_MS = 2000;

const keyOf = (deviceId: string, space: string) => `${deviceId}\u0000${space}`;

/**
 * The server's predictors, one per (device, space). A preloaded predictor wins; otherwise one is
 * built from the store (trainingData + predictorFor, without the encoding baseline: serving does
 * not use it) and cached until the device's measurement count changes. The count is checked on a
 * request at most as often as its cost allows (see `recheckShare`: every request on a small
 * database, every ~2 s for a device with 300k measurements). A request that finds the count changed
 * waits for the rebuild. Concurrent requests share one build, and a key has at most one build in
 * flight: requests arriving while a device's measurements keep changing join the running build
 * instead of starting another.
 *
 * @example
 * const cache = new PredictorCache({ store });
 * const p = await cache.get('dev-0123456789ab', 'fbnet');
 * p.predict('k3_e1-skip-…').ms;
 */
export class PredictorCache {
  private readonly store: Store;
  private readonly preloaded = new Map<string, LatencyPredictor>();
  private readonly entries = new Map<string, Entry>();
  private readonly train: ServeTrainOptions;
  private readonly recheckShare: number;
  private readonly versions: PredictorCacheOptions['versions'];
  private readonly log: (event: Record<string, unknown>) => void;
  /** builds started since the cache was created (tests read it) */
  builds = 0;

  constructor(options: PredictorCacheOptions) {
    this.store = options.store;
    this.versions = options.versions;
    this.train = { encodingBaseline: false, ...options.train };
    this.recheckShare = options.recheckShare ?? 0.01;
    if (!(this.recheckShare >= 0 && this.recheckShare <= 1)) throw new RangeError(`'recheckShare' must be in 0..1, got ${options.recheckShare}`);
    this.log = options.log ?? (() => {});
    for (const p of options.preloaded ?? []) {
      const key = keyOf(p.data.deviceId, p.data.space);
      if (this.preloaded.has(key)) {
        throw new RangeError(`two preloaded predictors for device '${p.data.deviceId}' and space '${p.data.space}': pass one '--model' directory per device and space`);
      }
      this.preloaded.set(key, p);
    }
  }

  /**
   * Serves `predictor` for its device and space from now on, replacing any earlier one (the demo
   * hands over the predictors it just trained, so the API does not train them again).
   */
  preload(predictor: LatencyPredictor): void {
    const key = keyOf(predictor.data.deviceId, predictor.data.space);
    this.preloaded.set(key, predictor);
    this.entries.delete(key);
  }

  /** The (device, space) pairs of the preloaded predictors. */
  preloadedKeys(): Array<{ deviceId: string; space: string }> {
    return [...this.preloaded.values()].map((p) => ({ deviceId: p.data.deviceId, space: p.data.space }));
  }

  /** The predictor for a device and space (see `resolve` for where it came from). */
  async get(deviceId: string, spaceName: string): Promise<LatencyPredictor> {
    return (await this.resolve(deviceId, spaceName)).predictor;
  }

  /**
   * The predictor with its source. Throws UnknownKeyError (400) for an unknown space, HttpError
   * 404 for an unknown device or a space the device has no measurements of.
   */
  async resolve(deviceId: string, spaceName: string): Promise<ServedPredictor> {
    const space = getSpace(spaceName);
    const key = keyOf(deviceId, space.name);
    const pre = this.preloaded.get(key);
    if (pre) return { predictor: pre, source: 'preloaded', measurements: null };

    const entry = this.entries.get(key);
    // read before the count: a change after this point moves the version past the entry's
    const version = this.versions?.version(deviceId) ?? 0;
    // a build in flight serves every request of its key: one build at a time per key
    if (entry && (!entry.settled || (performance.now() < entry.nextCheck && entry.version === version))) return entry.promise;
    if (!entry && !(await this.store.getDevice(deviceId))) throw await unknownDevice(this.store, deviceId);
    // the device's measurement count is the signal that new measurements arrived (from agents or
    // from another process writing the same database); its cost is budgeted, see recheckShare
    const t0 = performance.now();
    const count = await this.store.countMeasurements({ deviceId });
    const t1 = performance.now();
    const nextCheck = this.recheckShare > 0 ? t1 + Math.min(MAX_RECHECK_MS, (t1 - t0) / this.recheckShare) : 0;
    // the store is asynchronous: another request of this key may have started a build meanwhile
    const current = this.entries.get(key);
    if (current && current !== entry && !current.settled) return current.promise;
    if (current && current.count === count) {
      current.nextCheck = nextCheck;
      current.version = version;
      return current.promise;
    }

    const promise = this.build(deviceId, space, count).then(
      (served) => {
        fresh.settled = true;
        return served;
      },
      (e: unknown) => {
        fresh.settled = true;
        // an HttpError (no measurements of the space) stands until the count changes, like a
        // predictor; anything else is not kept: the next request tries again
        if (!(e instanceof HttpError) && this.entries.get(key) === fresh) this.entries.delete(key);
        throw e;
      },
    );
    const fresh: Entry = { count, version, settled: false, nextCheck, promise };
    this.entries.set(key, fresh);
    return promise;
  }

  /** Drops every store-built predictor (preloaded ones stay). */
  clear(): void {
    this.entries.clear();
  }

  private async build(deviceId: string, space: SearchSpace, count: number): Promise<ServedPredictor> {
    this.builds++;
    const t0 = performance.now();
    // read right after `count`: a measurement that lands in between is in the predictor and makes
    // the next check rebuild it once, never the other way round (a predictor missing counted data)
    const data = await trainingData(this.store, deviceId, space.name);
    const units = spaceUnits(space);
    const lutKeys = [...data.lutMs.keys()].filter((k) => units.has(k)).length;
    if (lutKeys === 0) {
      throw new HttpError(
        404,
        data.networks.length === 0
          ? `device '${deviceId}' has no measurements for space '${space.name}': profile it (\`hwlat profile --space ${space.name} --ops --networks 20\`) or import a LUT`
          : `device '${deviceId}' has ${data.networks.length} network measurements of space '${space.name}' but none of its layers: ` +
            `measure them with \`hwlat profile --space ${space.name} --ops\``,
      );
    }
    const predictor = await predictorFor(data, this.train);
    this.log({
      event: 'predictor_built', device: deviceId, space: space.name, kind: predictor.data.chosen, networks: data.networks.length,
      lutEntries: lutKeys, measurements: count, seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
    });
    return { predictor, source: 'store', measurements: count };
  }
}
