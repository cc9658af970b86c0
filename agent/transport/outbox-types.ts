import type { ResultMessage } from '../../protocol/index.ts';

/**
 * Results that were measured but not yet acknowledged by the collector. A result is put here
 * before it is sent and removed when its `ack` arrives, so a crash, a restart or a dropped
 * connection loses nothing: after every (re)connect the agent re-sends what is listed, and the
 * collector ignores duplicates by result id.
 *
 * The Node agent keeps it on disk (agent/transport/outbox.ts); the browser agent implements the
 * same interface on IndexedDB. Methods are async so both fit.
 */
export interface ResultOutbox {
  /** Stores `result` durably; resolves only once it would survive a crash. Putting an id again replaces it. */
  put(result: ResultMessage): Promise<void>;
  /** Forgets the given results (acknowledged, or refused for good); unknown ids are ignored. */
  remove(resultIds: readonly string[]): Promise<void>;
  /** Every pending result, oldest first. */
  list(): Promise<ResultMessage[]>;
}
