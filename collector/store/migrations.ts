/**
 * Schema migrations, numbered in code. A migration is never edited once released: a later change
 * to the schema is a new entry with the next version (jobs, campaigns, luts, models come as 2, 3,
 * …), so every database, however old, reaches the same schema by replaying the list in order.
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

/** Every migration, in order. Append only. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({ version: 1, name: 'devices_passes_measurements', up: V1_DEVICES_PASSES_MEASUREMENTS }),
]);
