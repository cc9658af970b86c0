import type { ChangeEvent, ChangeNotifier } from './types.ts';

/** The data a cache is built from: a device's measurements or its kernel profiles. */
export type DataKind = 'measurements' | 'kernels';

const keyOf = (kind: DataKind, deviceId: string) => `${kind}\u0000${deviceId}`;

/**
 * Per device, a data version counter that every change event of any replica advances: a cache
 * records the version it was built at and knows it is stale when the version moved, whichever
 * replica stored the data. `resync` (the notifier may have missed events) advances every device.
 *
 * version() is this process's counter (it moves by one per change it hears of, so equal means
 * "nothing heard since"); latest() is the version the last change carried (the same number on
 * every replica on one PostgreSQL).
 *
 * @example
 * const versions = new DataVersions(notifier);
 * const at = versions.version('dev-0123456789ab');
 * // … build a predictor from the device's measurements …
 * if (versions.version('dev-0123456789ab') !== at) rebuild();
 */
export class DataVersions {
  private readonly counters = new Map<string, number>();
  private readonly latestSeen = new Map<string, number>();
  private resyncs = 0;
  private readonly off: () => void;

  constructor(notifier: Pick<ChangeNotifier, 'subscribe'>) {
    this.off = notifier.subscribe((e) => this.observe(e));
  }

  /** The device's data version here: unchanged as long as no change to that data was heard of. */
  version(deviceId: string, kind: DataKind = 'measurements'): number {
    return (this.counters.get(keyOf(kind, deviceId)) ?? 0) + this.resyncs;
  }

  /** The version the device's last change carried (0: none heard of). */
  latest(deviceId: string, kind: DataKind = 'measurements'): number {
    return this.latestSeen.get(keyOf(kind, deviceId)) ?? 0;
  }

  /** Stops following the notifier. */
  close(): void {
    this.off();
  }

  private observe(e: ChangeEvent): void {
    if (e.kind === 'resync') {
      this.resyncs++;
      return;
    }
    if ((e.kind !== 'measurements' && e.kind !== 'kernels') || e.deviceId === null) return;
    const key = keyOf(e.kind, e.deviceId);
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
    this.latestSeen.set(key, Math.max(this.latestSeen.get(key) ?? 0, e.version));
  }
}
