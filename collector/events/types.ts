import { z } from 'zod';

/**
 * What changed in the database, as the collector tells its replicas (and their dashboards):
 * - `devices`: a device registered or changed its profile
 * - `measurements`: new measurements of the device (a job's result, a local profile)
 * - `kernels`: new kernel profiles of the device
 * - `jobs`: the device's jobs changed state (leased, done, failed, requeued), so campaign progress did;
 *   deviceId null when the store does not say whose (expired or released leases)
 * - `campaigns`: a campaign was created
 * - `agents`: how many agents are connected to the replica that sends it (`agents`), sent when it
 *   changes and every few seconds (ReplicaAgents), so every replica's dashboard shows the fleet's total
 * - `resync`: not a change but a warning: this replica may have missed events (its listening
 *   connection dropped and came back); anything may have changed
 */
export const CHANGE_KINDS = ['devices', 'measurements', 'kernels', 'jobs', 'campaigns', 'agents', 'resync'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** A change as a writer reports it (the notifier adds version, origin and time). */
export interface Change {
  kind: ChangeKind;
  /** the device whose data changed; null when unknown or not about one device */
  deviceId: string | null;
  /** the campaign, for `campaigns` */
  campaignId?: string;
  /** agents connected to the sending replica, for `agents` */
  agents?: number;
}

export const ChangeEventSchema = z.object({
  kind: z.enum(CHANGE_KINDS),
  deviceId: z.string().min(1).max(200).nullable(),
  campaignId: z.string().min(1).max(200).optional(),
  agents: z.number().int().nonnegative().optional(),
  /**
   * the data version the change made: increasing across every replica on one PostgreSQL (the
   * writing transaction's id), increasing within one process for the in-process notifier; 0 for resync
   */
  version: z.number().int().nonnegative(),
  /** the replica (notifier) that published it */
  origin: z.string().min(1).max(100),
  /** ISO time of publishing */
  at: z.string().min(1).max(40),
});
export type ChangeEvent = z.infer<typeof ChangeEventSchema>;

export type ChangeListener = (event: ChangeEvent) => void;

/**
 * How the collector's replicas hear about each other's writes. `hwlat serve` on a SQLite file
 * runs alone: the in-process notifier (InProcessNotifier) hands each change to this process's
 * listeners. Replicas on one PostgreSQL use LISTEN/NOTIFY (PgNotifier): every replica, the
 * writer included, receives every change, with the same version, so their dashboards show the
 * same events and their caches notice data another replica stored.
 *
 * Delivery is at most once and may lag a write by a few milliseconds; a listener that must not
 * miss a change treats `resync` as "anything may have changed", and the caches keep their own
 * checks of the database as a backstop (a `hwlat profile` writing the same database sends nothing).
 *
 * @example
 * const notifier = notifierFor('postgres://hwlat@db:5432/hwlat'); // or a SQLite path: in-process
 * await notifier.start();
 * const off = notifier.subscribe((e) => console.log(e.kind, e.deviceId, e.version));
 * await notifier.publish([{ kind: 'measurements', deviceId: 'dev-0123456789ab' }]);
 * off();
 * await notifier.close();
 */
export interface ChangeNotifier {
  /** which implementation: `in-process` or `postgres` */
  readonly kind: 'in-process' | 'postgres';
  /** this replica's id: the `origin` of the events it publishes */
  readonly origin: string;
  /** Connects and listens (idempotent); rejects with a clear error when it cannot. */
  start(): Promise<void>;
  /**
   * Tells every replica (this one included) about changes already committed. Never rejects: a
   * change that cannot be sent is logged, and the readers' own checks catch up with it.
   */
  publish(changes: readonly Change[]): Promise<void>;
  /** Calls `listener` with every change from now on; returns the unsubscribe. */
  subscribe(listener: ChangeListener): () => void;
  /** Stops listening and releases connections (idempotent). */
  close(): Promise<void>;
}
