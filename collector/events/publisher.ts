import type { Change, ChangeNotifier } from './types.ts';

/** The store methods that write, and what each one's success changed. */
type Rule = (args: readonly unknown[], result: unknown) => Change[];

const deviceIdsOf = (rows: unknown): string[] =>
  Array.isArray(rows) ? [...new Set(rows.map((r) => (r as { deviceId?: unknown })?.deviceId).filter((d): d is string => typeof d === 'string'))] : [];
const inserted = (result: unknown) => ((result as { inserted?: number } | null)?.inserted ?? 0) > 0;
const positive = (result: unknown) => typeof result === 'number' && result > 0;
const arg = <T>(args: readonly unknown[]) => (args[0] ?? {}) as T;

const RULES: Readonly<Record<string, Rule>> = {
  upsertDevice: (args) => {
    const id = arg<{ id?: unknown }>(args).id;
    return typeof id === 'string' ? [{ kind: 'devices', deviceId: id }] : [];
  },
  insertMeasurements: (args, result) => (inserted(result) ? deviceIdsOf(args[0]).map((deviceId) => ({ kind: 'measurements', deviceId })) : []),
  insertKernelProfiles: (args, result) => (inserted(result) ? deviceIdsOf(args[0]).map((deviceId) => ({ kind: 'kernels', deviceId })) : []),
  completeJob: (args, result) => {
    if (result === 'duplicate') return [];
    const input = arg<{ deviceId: string; kernels?: unknown }>(args);
    return [
      { kind: 'measurements', deviceId: input.deviceId },
      { kind: 'jobs', deviceId: input.deviceId },
      ...(input.kernels ? [{ kind: 'kernels', deviceId: input.deviceId } as Change] : []),
    ];
  },
  completeJobs: (args, result) => {
    // per input that was stored or requeued (a duplicate or a refused one changed nothing)
    const inputs = Array.isArray(args[0]) ? (args[0] as unknown[]) : [];
    const items = Array.isArray(result) ? (result as Array<{ outcome?: unknown }>) : [];
    return inputs.flatMap((input, i) => {
      const outcome = items[i]?.outcome;
      return outcome === undefined || outcome === 'duplicate' ? [] : (RULES.completeJob!([input], outcome) ?? []);
    });
  },
  failJob: (args) => [{ kind: 'jobs', deviceId: arg<{ deviceId: string }>(args).deviceId }],
  leaseJobs: (args, result) => (((result as { jobs?: unknown[] } | null)?.jobs?.length ?? 0) > 0 ? [{ kind: 'jobs', deviceId: arg<{ deviceId: string }>(args).deviceId }] : []),
  releaseLeases: (_args, result) => (positive(result) ? [{ kind: 'jobs', deviceId: null }] : []),
  expireLeases: (_args, result) => (positive(result) ? [{ kind: 'jobs', deviceId: null }] : []),
  ensureJobsForDevice: (args, result) => (positive(result) && typeof args[0] === 'string' ? [{ kind: 'jobs', deviceId: args[0] }] : []),
  createCampaign: (_args, result) => {
    const id = (result as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? [{ kind: 'campaigns', deviceId: null, campaignId: id }, { kind: 'jobs', deviceId: null }] : [];
  },
};

/** What a store method's successful call changed (nothing for reads and unknown methods). */
export function changesOf(method: string, args: readonly unknown[], result: unknown): Change[] {
  const rule = Object.hasOwn(RULES, method) ? RULES[method] : undefined;
  return rule ? rule(args, result) : [];
}

export interface ChangePublisherOptions {
  /**
   * changes within this window go out as one batch, each (kind, device) once (default 20 ms): 50
   * agents' results make a few notifications per device a second, not one per result
   */
  coalesceMs?: number;
  log?: (event: Record<string, unknown>) => void;
}

/**
 * Announces a store's writes: wrap(store) returns the same store whose write methods, once they
 * succeed (returned, or resolved for an asynchronous store), queue what they changed (changesOf),
 * and the queue goes to the notifier every `coalesceMs`. A failed write announces nothing. The
 * collector wraps its store with this, so the ws endpoint, the HTTP routes and every later caller
 * announce their writes without knowing about replicas.
 *
 * @example
 * const publisher = new ChangePublisher(notifier);
 * const store = publisher.wrap(await openStoreAt('postgres://hwlat@db/hwlat'));
 * await store.completeJob(…); // → { kind: 'measurements', deviceId } and { kind: 'jobs', deviceId } to every replica
 * await publisher.flush();
 */
export class ChangePublisher {
  private readonly coalesceMs: number;
  private readonly queue = new Map<string, Change>();
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly notifier: Pick<ChangeNotifier, 'publish'>,
    options: ChangePublisherOptions = {},
  ) {
    this.coalesceMs = options.coalesceMs ?? 20;
    if (!(Number.isFinite(this.coalesceMs) && this.coalesceMs >= 0)) throw new RangeError(`'coalesceMs' must be a number >= 0, got ${options.coalesceMs}`);
  }

  /** The store with its writes announced; reads and everything else pass through unchanged. */
  wrap<S extends object>(store: S): S {
    const wrapped = new Map<PropertyKey, unknown>();
    return new Proxy(store, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        let fn = wrapped.get(prop);
        if (fn === undefined) {
          const method = value as (...a: unknown[]) => unknown;
          fn = typeof prop === 'string' && Object.hasOwn(RULES, prop)
            ? (...args: unknown[]) => {
                const out = method.apply(target, args);
                if (out !== null && typeof (out as Promise<unknown>)?.then === 'function') {
                  return (out as Promise<unknown>).then((r) => {
                    this.record(prop, args, r);
                    return r;
                  });
                }
                this.record(prop, args, out);
                return out;
              }
            : method.bind(target);
          wrapped.set(prop, fn);
        }
        return fn;
      },
    });
  }

  /** Sends what is queued now; resolves when it went out (and what was sending before). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.queue.values()];
    this.queue.clear();
    const previous = this.sending;
    this.sending = previous.then(() => (batch.length > 0 ? this.notifier.publish(batch) : undefined)).catch(() => {});
    return this.sending;
  }

  private record(method: string, args: readonly unknown[], result: unknown): void {
    const changes = changesOf(method, args, result);
    if (changes.length === 0) return;
    for (const c of changes) this.queue.set(`${c.kind}\u0000${c.deviceId ?? ''}\u0000${c.campaignId ?? ''}`, c);
    if (this.coalesceMs === 0) {
      void this.flush();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.coalesceMs);
      this.timer.unref();
    }
  }
}
