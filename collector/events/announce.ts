import { ChangePublisher } from './publisher.ts';
import type { ChangeNotifier } from './types.ts';

/**
 * A store opened outside a collector (a CLI command writing to the fleet's PostgreSQL: `hwlat
 * profile`, `hwlat lut import`, `hwlat kernels campaign`) whose writes reach the replicas as a
 * collector's own do, so their cached predictors and dashboards follow them. Writes are announced
 * as ChangePublisher announces them; close() sends what is still queued, then closes the notifier
 * and the store.
 *
 * @example
 * const store = announcingStore(await openStoreAt(url), new PgNotifier({ url }));
 * await store.insertMeasurements(rows); // → { kind: 'measurements', deviceId } on every replica
 * await store.close();
 */
export function announcingStore<S extends { close(): Promise<void> }>(store: S, notifier: Pick<ChangeNotifier, 'publish' | 'close'>): S {
  const publisher = new ChangePublisher(notifier);
  const wrapped = publisher.wrap(store);
  const close = async () => {
    try {
      await publisher.flush();
    } finally {
      await notifier.close();
      await store.close();
    }
  };
  return new Proxy(wrapped, { get: (target, prop) => (prop === 'close' ? close : Reflect.get(target, prop, target)) });
}

/**
 * Tells every replica that anything may have changed (a `resync` event: each rebuilds its caches
 * and reloads its dashboards), for writes no change event describes, such as `hwlat db copy`
 * replacing a database's contents.
 */
export async function announceResync(notifier: Pick<ChangeNotifier, 'publish' | 'close'>): Promise<void> {
  try {
    await notifier.publish([{ kind: 'resync', deviceId: null }]);
  } finally {
    await notifier.close();
  }
}
