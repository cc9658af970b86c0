import type { ChangeEvent, ChangeListener } from './types.ts';

/** A notifier's subscribers: one listener's throw is logged and never stops the others. */
export class Listeners {
  private readonly set = new Set<ChangeListener>();

  constructor(private readonly log: (event: Record<string, unknown>) => void) {}

  get size(): number {
    return this.set.size;
  }

  add(listener: ChangeListener): () => void {
    if (typeof listener !== 'function') throw new TypeError(`'listener' must be a function, got ${typeof listener}`);
    this.set.add(listener);
    return () => {
      this.set.delete(listener);
    };
  }

  emit(event: ChangeEvent): void {
    for (const l of [...this.set]) {
      try {
        l(event);
      } catch (e) {
        this.log({ event: 'change_listener_error', kind: event.kind, message: (e as Error).message });
      }
    }
  }

  clear(): void {
    this.set.clear();
  }
}
