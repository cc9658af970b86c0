/**
 * Schema migrations, numbered in code. A migration is never edited once released: a later change
 * to the schema is a new entry with the next version (job failures came as 3; luts, models come
 * as 4, 5, …), so every database, however old, reaches the same schema by replaying the list in
 * order.
 * The runner is in migrate.ts; it records each applied version in `schema_migrations`.
 */

/** One step of the schema: `up` is plain SQL, possibly several statements. */
export interface Migration {
  /** 1, 2, 3, …: contiguous, in order */
  readonly version: number;
  /** short snake_case label, stored beside the version so a renumbered list is caught */
  readonly name: string;
  readonly up: string;
}

/**
 * Version 1: devices, passes, measurements.
 *
 * Tables are STRICT so a wrong type from a bug is refused instead of silently stored with SQLite's
 * type affinity. JSON columns are TEXT checked with json_valid. Passes carry UNIQUE(id, device_id)
 * so that measurements can reference (pass_id, device_id) together: a measurement can then never
 * claim a pass of another device, whose calibration figure would normalise it wrongly.
 */
const V1_DEVICES_PASSES_MEASUREMENTS = `
CREATE TABLE devices (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  hardware        TEXT NOT NULL CHECK (json_valid(hardware)),
  runtime         TEXT NOT NULL CHECK (json_valid(runtime)),
  -- runtime fields repeated as columns so devices can be grouped and filtered without JSON
  backend         TEXT NOT NULL,
  provider        TEXT NOT NULL,
  runtime_version TEXT NOT NULL,
  threads         INTEGER NOT NULL CHECK (threads >= 0),
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
) STRICT;

CREATE TABLE passes (
  id                TEXT PRIMARY KEY,
  device_id         TEXT NOT NULL REFERENCES devices(id),
  started_at        TEXT NOT NULL,
  finished_at       TEXT,
  calibration_key   TEXT NOT NULL,
  calibration_ms    REAL CHECK (calibration_ms IS NULL OR calibration_ms > 0),
  calibration_trace TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(calibration_trace)),
  UNIQUE (id, device_id)
) STRICT;
CREATE INDEX passes_device ON passes (device_id);

CREATE TABLE measurements (
  id             TEXT PRIMARY KEY,
  device_id      TEXT NOT NULL REFERENCES devices(id),
  pass_id        TEXT NOT NULL,
  level          TEXT NOT NULL CHECK (level IN ('op', 'network')),
  space          TEXT,
  key            TEXT NOT NULL,
  -- NULL = no spec sent; the JSON text 'null' = a spec sent as null (kept apart for exact round trips)
  spec           TEXT CHECK (spec IS NULL OR json_valid(spec)),
  batch          INTEGER NOT NULL CHECK (batch >= 1),
  warmup         INTEGER NOT NULL CHECK (warmup >= 0),
  median_ms      REAL NOT NULL CHECK (median_ms >= 0),
  mean_ms        REAL NOT NULL CHECK (mean_ms >= 0),
  p10_ms         REAL NOT NULL CHECK (p10_ms >= 0),
  p90_ms         REAL NOT NULL CHECK (p90_ms >= 0),
  stddev_ms      REAL NOT NULL CHECK (stddev_ms >= 0),
  min_ms         REAL NOT NULL CHECK (min_ms >= 0),
  cv             REAL NOT NULL CHECK (cv >= 0),
  repeats        INTEGER NOT NULL CHECK (repeats >= 1),
  outliers       INTEGER NOT NULL CHECK (outliers >= 0),
  wall_ms        REAL NOT NULL CHECK (wall_ms >= 0),
  calibration_ms REAL CHECK (calibration_ms IS NULL OR calibration_ms > 0),
  created_at     TEXT NOT NULL,
  FOREIGN KEY (pass_id, device_id) REFERENCES passes (id, device_id)
) STRICT;
-- LUT building looks up (device, level, key); training and export select a device's search space
CREATE INDEX measurements_device_level_key ON measurements (device_id, level, key);
CREATE INDEX measurements_device_space ON measurements (device_id, space);
-- the child side of the pass foreign key, and per-pass normalisation by calibration
CREATE INDEX measurements_pass ON measurements (pass_id);
`;

/**
 * Version 2: fleet campaigns, their tasks, and per-device jobs with leases.
 *
 * A campaign's tasks are device-independent (what to measure); a job is one task on one device, so
 * the same layer key on two devices is two jobs, each done exactly once. `all_devices` = 1 makes
 * devices that register later join the campaign (their jobs are created when they say hello);
 * otherwise `campaign_devices` lists the devices. A job moves queued → leased → done; a lease that
 * expires, or is released, puts it back to queued. `lease_expires_at` and `done_at` are epoch ms
 * (the lease manager compares them with the clock); `attempts` counts leases. A done job names its
 * measurement, and the measurement names its job: the unique index on measurements(job_id) is what
 * makes "exactly one measurement per job" hold even against a buggy caller.
 */
const V2_CAMPAIGNS_JOBS = `
CREATE TABLE campaigns (
  id          TEXT PRIMARY KEY,
  created_at  TEXT NOT NULL,
  -- the CampaignRequest, defaults filled in
  request     TEXT NOT NULL CHECK (json_valid(request)),
  -- 1: every device, including ones that register later; 0: the devices in campaign_devices
  all_devices INTEGER NOT NULL CHECK (all_devices IN (0, 1)),
  tasks       INTEGER NOT NULL CHECK (tasks >= 0)
) STRICT;
CREATE INDEX campaigns_created ON campaigns (created_at, id);

CREATE TABLE campaign_tasks (
  campaign_id TEXT NOT NULL REFERENCES campaigns(id),
  idx         INTEGER NOT NULL CHECK (idx >= 0),
  level       TEXT NOT NULL CHECK (level IN ('op', 'network')),
  space       TEXT,
  key         TEXT NOT NULL,
  -- the JobTask as leased to agents
  payload     TEXT NOT NULL CHECK (json_valid(payload)),
  PRIMARY KEY (campaign_id, idx)
) STRICT;

CREATE TABLE campaign_devices (
  campaign_id TEXT NOT NULL REFERENCES campaigns(id),
  device_id   TEXT NOT NULL REFERENCES devices(id),
  PRIMARY KEY (campaign_id, device_id)
) STRICT;
CREATE INDEX campaign_devices_device ON campaign_devices (device_id);

CREATE TABLE jobs (
  id               TEXT PRIMARY KEY,
  campaign_id      TEXT NOT NULL,
  task_idx         INTEGER NOT NULL,
  device_id        TEXT NOT NULL REFERENCES devices(id),
  status           TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'leased', 'done')),
  lease_id         TEXT,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  result_id        TEXT REFERENCES measurements(id),
  done_at          INTEGER,
  created_at       TEXT NOT NULL,
  UNIQUE (campaign_id, task_idx, device_id),
  FOREIGN KEY (campaign_id, task_idx) REFERENCES campaign_tasks (campaign_id, idx),
  -- a lease is all three or none, and only a leased job has one
  CHECK ((status = 'leased') = (lease_id IS NOT NULL AND lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CHECK (status = 'leased' OR (lease_id IS NULL AND lease_owner IS NULL AND lease_expires_at IS NULL)),
  -- done ⇔ it has its result; a job is leased at least once before it can be done
  CHECK ((status = 'done') = (result_id IS NOT NULL AND done_at IS NOT NULL)),
  CHECK (status = 'queued' OR attempts >= 1)
) STRICT;
-- leasing: a device's queued jobs, campaign by campaign, in task order
CREATE INDEX jobs_device_status ON jobs (device_id, status, campaign_id, task_idx);
-- heartbeats and releases select an agent's leases; only leased jobs have an owner
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE lease_owner IS NOT NULL;
-- expiry scans the leased jobs only
CREATE INDEX jobs_lease_expiry ON jobs (lease_expires_at) WHERE status = 'leased';

-- NULL for measurements that belong to no job (local profiles)
ALTER TABLE measurements ADD COLUMN job_id TEXT REFERENCES jobs(id);
CREATE UNIQUE INDEX measurements_job ON measurements (job_id) WHERE job_id IS NOT NULL;
`;

/**
 * Version 3: jobs remember how often they failed on their device.
 *
 * An agent that cannot build or run a job (bad spec, an op its execution provider lacks) reports
 * it; the job goes back to the queue with `failures` one higher and the agent's message in
 * `last_error`. A job that reached the store's MAX_JOB_FAILURES stays 'queued' but is no longer
 * leased: it counts as failed, so a broken job cannot keep its campaign from finishing. The limit
 * lives in code, not in a CHECK, so it can change without a migration. Existing jobs start at 0.
 */
const V3_JOB_FAILURES = `
ALTER TABLE jobs ADD COLUMN failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0);
-- the agent's message of the last failure; NULL while the job never failed
ALTER TABLE jobs ADD COLUMN last_error TEXT;
`;

/**
 * Version 4: network measurements carry their group's anchor-network median (agent/anchors.ts),
 * which the predictor normalises by. NULL for op-level measurements, older agents and imports.
 */
const V4_ANCHOR_MS = `
ALTER TABLE measurements ADD COLUMN anchor_ms REAL CHECK (anchor_ms IS NULL OR anchor_ms > 0);
`;

/**
 * Version 5: measurement quality (conditions/quality.ts). Measurements carry their cold first-run
 * statistics and their quality verdict as JSON (NULL: measured before either existed, read as
 * clean), and `disturbed` mirrors the verdict for the indexes. A disturbed result is stored marked
 * and its job queued again for later (jobs.disturbed counts how often, jobs.not_before holds it
 * back), so one job may now have several disturbed measurements beside its one completing result:
 * the unique index on job_id leaves the disturbed ones out.
 */
const V5_QUALITY = `
ALTER TABLE measurements ADD COLUMN cold TEXT;
ALTER TABLE measurements ADD COLUMN quality TEXT;
ALTER TABLE measurements ADD COLUMN disturbed INTEGER NOT NULL DEFAULT 0 CHECK (disturbed IN (0, 1));
DROP INDEX measurements_job;
CREATE UNIQUE INDEX measurements_job ON measurements (job_id) WHERE job_id IS NOT NULL AND disturbed = 0;
ALTER TABLE jobs ADD COLUMN disturbed INTEGER NOT NULL DEFAULT 0 CHECK (disturbed >= 0);
-- epoch ms before which a job queued again after a disturbed result is not leased; NULL: at once
ALTER TABLE jobs ADD COLUMN not_before INTEGER;
`;

/**
 * Version 6: kernels timed in context (protocol/kernels.ts). A kernel profile is one model run
 * with the runtime's profiler on: a measured network (`measurement_id` names its network-level
 * measurement, at most one profile each; `disturbed` mirrors that measurement's flag) or a small
 * graph of a kernel campaign (`source` 'sample', `spec` its configuration). Its kernels, one row
 * per node of the runtime's optimised graph in execution order, carry the device again so that
 * per-device, per-op reads (the per-kernel predictors) use one index and no join.
 */
const V6_KERNEL_PROFILES = `
CREATE TABLE kernel_profiles (
  id             TEXT PRIMARY KEY,
  device_id      TEXT NOT NULL REFERENCES devices(id),
  source         TEXT NOT NULL CHECK (source IN ('network', 'sample')),
  measurement_id TEXT REFERENCES measurements(id),
  space          TEXT,
  key            TEXT NOT NULL,
  spec           TEXT CHECK (spec IS NULL OR json_valid(spec)),
  batch          INTEGER NOT NULL CHECK (batch >= 1),
  calibration_ms REAL CHECK (calibration_ms IS NULL OR calibration_ms > 0),
  runs           INTEGER NOT NULL CHECK (runs >= 1),
  warmup         INTEGER NOT NULL CHECK (warmup >= 0),
  run_ms         REAL NOT NULL CHECK (run_ms >= 0),
  kernel_sum_ms  REAL NOT NULL CHECK (kernel_sum_ms >= 0),
  kernels        INTEGER NOT NULL CHECK (kernels >= 1),
  disturbed      INTEGER NOT NULL DEFAULT 0 CHECK (disturbed IN (0, 1)),
  created_at     TEXT NOT NULL,
  CHECK (source = 'network' OR measurement_id IS NULL)
) STRICT;
CREATE UNIQUE INDEX kernel_profiles_measurement ON kernel_profiles (measurement_id) WHERE measurement_id IS NOT NULL;
CREATE INDEX kernel_profiles_device ON kernel_profiles (device_id, source, space, key);

CREATE TABLE timed_kernels (
  profile_id TEXT NOT NULL REFERENCES kernel_profiles(id),
  position   INTEGER NOT NULL CHECK (position >= 0),
  device_id  TEXT NOT NULL REFERENCES devices(id),
  name       TEXT NOT NULL,
  op         TEXT NOT NULL,
  attrs      TEXT NOT NULL CHECK (json_valid(attrs)),
  inputs     TEXT NOT NULL CHECK (json_valid(inputs)),
  outputs    TEXT NOT NULL CHECK (json_valid(outputs)),
  nodes      TEXT NOT NULL CHECK (json_valid(nodes)),
  ms         REAL NOT NULL CHECK (ms >= 0),
  PRIMARY KEY (profile_id, position)
) STRICT;
CREATE INDEX timed_kernels_device_op ON timed_kernels (device_id, op);
`;

/** Every migration, in order. Append only. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({ version: 1, name: 'devices_passes_measurements', up: V1_DEVICES_PASSES_MEASUREMENTS }),
  Object.freeze({ version: 2, name: 'campaigns_jobs', up: V2_CAMPAIGNS_JOBS }),
  Object.freeze({ version: 3, name: 'job_failures', up: V3_JOB_FAILURES }),
  Object.freeze({ version: 4, name: 'anchor_ms', up: V4_ANCHOR_MS }),
  Object.freeze({ version: 5, name: 'measurement_quality', up: V5_QUALITY }),
  Object.freeze({ version: 6, name: 'kernel_profiles', up: V6_KERNEL_PROFILES }),
]);
