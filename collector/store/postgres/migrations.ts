import type { Migration } from '../migrations.ts';

/**
 * The PostgreSQL schema, numbered in code like SQLite's (collector/store/migrations.ts) but its own
 * list: PostgreSQL starts at SQLite's sixth version in one step, since no PostgreSQL database
 * predates it. Append only; a released migration is never edited.
 *
 * The tables and columns are SQLite's, by the same names, so `hwlat db copy` maps rows one to one.
 * What differs, and why:
 * - Text columns use the "C" collation: ids, keys and ISO timestamps sort byte-wise, as in SQLite,
 *   whatever locale the database was created with (a locale's collation would put 'a-b' after 'ab'
 *   and reorder campaigns and measurements between the two stores).
 * - JSON documents are `json`, not `jsonb`: `json` keeps the text as sent (key order, and the
 *   difference between a spec sent as `null` and no spec at all), so copies are exact. Nothing
 *   queries inside them.
 * - Flags are booleans; epoch-ms columns are BIGINT.
 * - measurements.seq (an identity) stands in for SQLite's rowid: "the device's last results" are
 *   the last inserted.
 * - The two foreign keys that close the job ↔ measurement cycle are DEFERRABLE, so a copy can load
 *   jobs and measurements in either order inside one transaction.
 */
const T = 'TEXT COLLATE "C"';

const V1_SCHEMA = `
CREATE TABLE devices (
  id              ${T} PRIMARY KEY,
  name            ${T} NOT NULL,
  hardware        JSON NOT NULL,
  runtime         JSON NOT NULL,
  backend         ${T} NOT NULL,
  provider        ${T} NOT NULL,
  runtime_version ${T} NOT NULL,
  threads         INTEGER NOT NULL CHECK (threads >= 0),
  created_at      ${T} NOT NULL,
  updated_at      ${T} NOT NULL
);

CREATE TABLE passes (
  id                ${T} PRIMARY KEY,
  device_id         ${T} NOT NULL REFERENCES devices(id),
  started_at        ${T} NOT NULL,
  finished_at       ${T},
  calibration_key   ${T} NOT NULL,
  calibration_ms    DOUBLE PRECISION CHECK (calibration_ms IS NULL OR calibration_ms > 0),
  calibration_trace JSON NOT NULL DEFAULT '[]',
  UNIQUE (id, device_id)
);
CREATE INDEX passes_device ON passes (device_id);

CREATE TABLE campaigns (
  id          ${T} PRIMARY KEY,
  created_at  ${T} NOT NULL,
  request     JSON NOT NULL,
  all_devices BOOLEAN NOT NULL,
  tasks       INTEGER NOT NULL CHECK (tasks >= 0)
);
CREATE INDEX campaigns_created ON campaigns (created_at, id);

CREATE TABLE campaign_tasks (
  campaign_id ${T} NOT NULL REFERENCES campaigns(id),
  idx         INTEGER NOT NULL CHECK (idx >= 0),
  level       ${T} NOT NULL CHECK (level IN ('op', 'network')),
  space       ${T},
  key         ${T} NOT NULL,
  payload     JSON NOT NULL,
  PRIMARY KEY (campaign_id, idx)
);

CREATE TABLE campaign_devices (
  campaign_id ${T} NOT NULL REFERENCES campaigns(id),
  device_id   ${T} NOT NULL REFERENCES devices(id),
  PRIMARY KEY (campaign_id, device_id)
);
CREATE INDEX campaign_devices_device ON campaign_devices (device_id);

CREATE TABLE jobs (
  id               ${T} PRIMARY KEY,
  campaign_id      ${T} NOT NULL,
  task_idx         INTEGER NOT NULL,
  device_id        ${T} NOT NULL REFERENCES devices(id),
  status           ${T} NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'leased', 'done')),
  lease_id         ${T},
  lease_owner      ${T},
  lease_expires_at BIGINT,
  attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  result_id        ${T},
  done_at          BIGINT,
  created_at       ${T} NOT NULL,
  failures         INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
  last_error       ${T},
  disturbed        INTEGER NOT NULL DEFAULT 0 CHECK (disturbed >= 0),
  not_before       BIGINT,
  UNIQUE (campaign_id, task_idx, device_id),
  FOREIGN KEY (campaign_id, task_idx) REFERENCES campaign_tasks (campaign_id, idx),
  CHECK ((status = 'leased') = (lease_id IS NOT NULL AND lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CHECK (status = 'leased' OR (lease_id IS NULL AND lease_owner IS NULL AND lease_expires_at IS NULL)),
  CHECK ((status = 'done') = (result_id IS NOT NULL AND done_at IS NOT NULL)),
  CHECK (status = 'queued' OR attempts >= 1)
);
CREATE INDEX jobs_device_status ON jobs (device_id, status, campaign_id, task_idx);
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX jobs_lease_expiry ON jobs (lease_expires_at) WHERE status = 'leased';

CREATE TABLE measurements (
  id             ${T} PRIMARY KEY,
  seq            BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  device_id      ${T} NOT NULL REFERENCES devices(id),
  pass_id        ${T} NOT NULL,
  level          ${T} NOT NULL CHECK (level IN ('op', 'network')),
  space          ${T},
  key            ${T} NOT NULL,
  -- NULL = no spec sent; the JSON text 'null' = a spec sent as null
  spec           JSON,
  batch          INTEGER NOT NULL CHECK (batch >= 1),
  warmup         INTEGER NOT NULL CHECK (warmup >= 0),
  median_ms      DOUBLE PRECISION NOT NULL CHECK (median_ms >= 0),
  mean_ms        DOUBLE PRECISION NOT NULL CHECK (mean_ms >= 0),
  p10_ms         DOUBLE PRECISION NOT NULL CHECK (p10_ms >= 0),
  p90_ms         DOUBLE PRECISION NOT NULL CHECK (p90_ms >= 0),
  stddev_ms      DOUBLE PRECISION NOT NULL CHECK (stddev_ms >= 0),
  min_ms         DOUBLE PRECISION NOT NULL CHECK (min_ms >= 0),
  cv             DOUBLE PRECISION NOT NULL CHECK (cv >= 0),
  repeats        INTEGER NOT NULL CHECK (repeats >= 1),
  outliers       INTEGER NOT NULL CHECK (outliers >= 0),
  wall_ms        DOUBLE PRECISION NOT NULL CHECK (wall_ms >= 0),
  calibration_ms DOUBLE PRECISION CHECK (calibration_ms IS NULL OR calibration_ms > 0),
  created_at     ${T} NOT NULL,
  job_id         ${T} REFERENCES jobs(id) DEFERRABLE INITIALLY IMMEDIATE,
  anchor_ms      DOUBLE PRECISION CHECK (anchor_ms IS NULL OR anchor_ms > 0),
  cold           JSON,
  quality        JSON,
  disturbed      BOOLEAN NOT NULL DEFAULT FALSE,
  FOREIGN KEY (pass_id, device_id) REFERENCES passes (id, device_id)
);
CREATE INDEX measurements_device_level_key ON measurements (device_id, level, key);
CREATE INDEX measurements_device_space ON measurements (device_id, space);
CREATE INDEX measurements_pass ON measurements (pass_id);
CREATE INDEX measurements_created ON measurements (created_at, id);
CREATE INDEX measurements_device_seq ON measurements (device_id, seq);
-- exactly one completing measurement per job; disturbed ones beside it are kept, marked
CREATE UNIQUE INDEX measurements_job ON measurements (job_id) WHERE job_id IS NOT NULL AND NOT disturbed;

ALTER TABLE jobs ADD FOREIGN KEY (result_id) REFERENCES measurements(id) DEFERRABLE INITIALLY IMMEDIATE;

CREATE TABLE kernel_profiles (
  id             ${T} PRIMARY KEY,
  device_id      ${T} NOT NULL REFERENCES devices(id),
  source         ${T} NOT NULL CHECK (source IN ('network', 'sample')),
  measurement_id ${T} REFERENCES measurements(id),
  space          ${T},
  key            ${T} NOT NULL,
  spec           JSON,
  batch          INTEGER NOT NULL CHECK (batch >= 1),
  calibration_ms DOUBLE PRECISION CHECK (calibration_ms IS NULL OR calibration_ms > 0),
  runs           INTEGER NOT NULL CHECK (runs >= 1),
  warmup         INTEGER NOT NULL CHECK (warmup >= 0),
  run_ms         DOUBLE PRECISION NOT NULL CHECK (run_ms >= 0),
  kernel_sum_ms  DOUBLE PRECISION NOT NULL CHECK (kernel_sum_ms >= 0),
  kernels        INTEGER NOT NULL CHECK (kernels >= 1),
  disturbed      BOOLEAN NOT NULL DEFAULT FALSE,
  created_at     ${T} NOT NULL,
  CHECK (source = 'network' OR measurement_id IS NULL)
);
CREATE UNIQUE INDEX kernel_profiles_measurement ON kernel_profiles (measurement_id) WHERE measurement_id IS NOT NULL;
CREATE INDEX kernel_profiles_device ON kernel_profiles (device_id, source, space, key);
CREATE INDEX kernel_profiles_created ON kernel_profiles (created_at, id);

CREATE TABLE timed_kernels (
  profile_id ${T} NOT NULL REFERENCES kernel_profiles(id),
  position   INTEGER NOT NULL CHECK (position >= 0),
  device_id  ${T} NOT NULL REFERENCES devices(id),
  name       ${T} NOT NULL,
  op         ${T} NOT NULL,
  attrs      JSON NOT NULL,
  inputs     JSON NOT NULL,
  outputs    JSON NOT NULL,
  nodes      JSON NOT NULL,
  ms         DOUBLE PRECISION NOT NULL CHECK (ms >= 0),
  PRIMARY KEY (profile_id, position)
);
CREATE INDEX timed_kernels_device_op ON timed_kernels (device_id, op);
`;

/** Every PostgreSQL migration, in order. Append only. */
export const PG_MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({ version: 1, name: 'schema_as_sqlite_v6', up: V1_SCHEMA }),
]);
