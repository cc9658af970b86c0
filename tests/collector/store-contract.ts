// The Store contract: the store and job-queue checks every backend must pass, typed against the
// Store interface only (never a backend's class). A backend's test file calls storeContract with
// a target that makes fresh databases (tests/collector/store-sqlite.test.ts for SQLite; the
// PostgreSQL one does the same), like tests/agent/backend-contract.ts for runtimes.
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { campaignFinished, type CampaignRequest, type DeviceProfile, type Job, type JobTask, type Measurement, type Pass } from '../../protocol/index.ts';
import {
  DISTURBED_RETRY_MS,
  MAX_DISTURBED_REQUEUES,
  MAX_JOB_FAILURES,
  MigrationError,
  PERSISTENT_WINDOW,
  StoreClosedError,
  StoreConflictError,
  StoreJobStateError,
  StoreNotFoundError,
  StoreReferenceError,
  StoreValidationError,
  type CampaignInput,
  type Store,
} from '../../collector/index.ts';

/** One empty database of a backend, and stores on it. */
export interface StoreDatabase {
  /**
   * A new store on this database. Each call is another instance with its own connection(s), as
   * another collector process would have: the concurrency cases open two.
   */
  open(): Promise<Store>;
  /**
   * Records a schema version newer than this code knows, as a newer hwlat would have left the
   * database (its stores are closed first). open() must then reject with MigrationError.
   */
  markSchemaNewer(): Promise<void>;
  /** Everything the database holds (rows of every table, schema version), as text: equal means untouched. */
  snapshot(): Promise<string>;
  /** Removes the database. */
  dispose(): Promise<void>;
}

export interface StoreContractTarget {
  /** shown in the test names, e.g. 'sqlite' */
  name: string;
  /** a fresh, empty database */
  fresh(): Promise<StoreDatabase>;
  /** why the cases are skipped (e.g. no PostgreSQL here), or null to run them */
  skip?: string | null;
}

/** Registers every contract case for `target` with node:test. */
export function storeContract(target: StoreContractTarget): void {
  const test = (name: string, fn: () => Promise<void>) => nodeTest(`${target.name}: ${name}`, { skip: target.skip ?? false }, fn);
  /** Runs `fn` with a store on a fresh database; closes and removes both whatever happens. */
  const withStore = async (fn: (store: Store, db: StoreDatabase) => Promise<void>): Promise<void> => {
    const db = await target.fresh();
    try {
      const store = await db.open();
      try {
        await fn(store, db);
      } finally {
        await store.close();
      }
    } finally {
      await db.dispose();
    }
  };
  storeCases(test, withStore);
  jobQueueCases(test, withStore);
  schemaCases(test, target);
}

type TestFn = (name: string, fn: () => Promise<void>) => void;
type WithStore = (fn: (store: Store, db: StoreDatabase) => Promise<void>) => Promise<void>;

/** Devices, passes and measurements: round trips, filters, duplicates, validation, references, close. */
function storeCases(test: TestFn, withStore: WithStore): void {
  const DEV = 'dev-0123456789ab';
  const DEV2 = 'dev-ba9876543210';

  function device(id = DEV, name = 'test-laptop'): DeviceProfile {
    return {
      id,
      name,
      hardware: {
        cpu: 'Intel(R) Xeon(R) @ 2.20GHz',
        cores: 16,
        physicalCores: 8,
        memoryBytes: 135_000_000_000,
        os: 'linux 6.1',
        arch: 'x64',
        gpus: [{ vendor: 'NVIDIA', model: 'H100', vramMb: 81_559 }],
        host: 'box-1',
      },
      runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
    };
  }

  function pass(id = 'pass-1', deviceId = DEV): Pass {
    return {
      id,
      deviceId,
      startedAt: '2025-01-01T00:00:00.000Z',
      finishedAt: null,
      calibrationKey: 'conv3x3-c32-hw56',
      calibrationMs: null,
      calibrationTrace: [],
    };
  }

  function measurement(n: number, overrides: Partial<Measurement> = {}): Measurement {
    return {
      id: `result-${String(n).padStart(4, '0')}`,
      deviceId: DEV,
      passId: 'pass-1',
      level: 'op',
      space: 'proxyless-mobile',
      key: `expanded_conv-input:56x56x24-output:56x56x24-expand:${n}-kernel:3-stride:1-idskip:1`,
      spec: { op: 'mbconv', cin: 24, cout: 24, expand: n, kernel: 3, stride: 1, hw: [56, 56], se: false },
      batch: 1,
      warmup: 10,
      stats: {
        median: 0.1 + 0.2 * n, // deliberately not representable exactly: REAL must round-trip bits
        mean: 1.2345678901234567,
        p10: 0.05,
        p90: 170,
        stddev: 0.0123,
        min: 0.04,
        cv: 0.0123 / 1.2345678901234567,
        repeats: 47,
        outliers: 3,
      },
      wallMs: 812.5,
      calibrationMs: 3.25,
      createdAt: `2025-01-01T00:00:${String(n).padStart(2, '0')}.000Z`,
      ...overrides,
    };
  }

  /** A store holding one device and one pass, ready for measurements. */
  async function seeded(store: Store): Promise<void> {
    await store.upsertDevice(device());
    await store.startPass(pass());
  }

  test('device, pass and measurements round-trip with every field intact', async () => {
    await withStore(async (store) => {
      await seeded(store);
      assert.deepEqual((await store.getDevice(DEV)), device());
      assert.equal((await store.getDevice('dev-000000000000')), undefined);
      assert.deepEqual((await store.getPass('pass-1')), pass());
      assert.equal((await store.getPass('nope')), undefined);

      const ms = [
        measurement(1),
        // a network measurement: no search space, no spec at all, no calibration
        measurement(2, { level: 'network', space: null, key: 'mbv2-full', spec: undefined, calibrationMs: null }),
        // spec sent as explicit null must come back as null, not vanish
        measurement(3, { spec: null, batch: 8, warmup: 0 }),
        // a network measurement with its group's anchor figure
        measurement(4, { level: 'network', space: 'nasbench201', key: 'arch-4', spec: null, anchorMs: 0.1 + 0.7 }),
      ];
      delete ms[1]!.spec;
      assert.deepEqual((await store.insertMeasurements(ms)), { inserted: 4, duplicates: 0 });
      const back = (await store.listMeasurements());
      assert.deepEqual(back, ms);
      assert.equal('spec' in back[1]!, false);
      assert.equal(back[2]!.spec, null);
      assert.equal(back[0]!.stats.median, 0.1 + 0.2 * 1);
      assert.equal('anchorMs' in back[0]!, false);
      assert.equal(back[3]!.anchorMs, 0.1 + 0.7);

      await store.finishPass('pass-1', { finishedAt: '2025-01-01T00:10:00.000Z', calibrationMs: 3.25, calibrationTrace: [3.1, 3.3, 3.25] });
      assert.deepEqual((await store.getPass('pass-1')), {
        ...pass(),
        finishedAt: '2025-01-01T00:10:00.000Z',
        calibrationMs: 3.25,
        calibrationTrace: [3.1, 3.3, 3.25],
      });

      assert.deepEqual((await store.listDevices()), [{ ...device(), measurements: 4 }]);
    });
  });

  test('filters select by device, level, space (including no space), key and limit; count agrees', async () => {
    await withStore(async (store) => {
      await seeded(store);
      await store.upsertDevice(device(DEV2, 'other'));
      await store.startPass(pass('pass-2', DEV2));
      (await store.insertMeasurements([
        measurement(5),
        measurement(4),
        measurement(3, { level: 'network', space: null, key: 'net-a' }),
        measurement(2, { deviceId: DEV2, passId: 'pass-2' }),
        measurement(1, { deviceId: DEV2, passId: 'pass-2', space: 'fbnet' }),
      ]));
      const ids = (ms: Measurement[]) => ms.map((m) => m.id);
      // ordered by createdAt, not by insertion order
      assert.deepEqual(ids((await store.listMeasurements())), ['result-0001', 'result-0002', 'result-0003', 'result-0004', 'result-0005']);
      assert.deepEqual(ids((await store.listMeasurements({ deviceId: DEV }))), ['result-0003', 'result-0004', 'result-0005']);
      assert.deepEqual(ids((await store.listMeasurements({ deviceId: DEV, level: 'op' }))), ['result-0004', 'result-0005']);
      assert.deepEqual(ids((await store.listMeasurements({ space: null }))), ['result-0003']);
      assert.deepEqual(ids((await store.listMeasurements({ space: 'fbnet' }))), ['result-0001']);
      assert.deepEqual(ids((await store.listMeasurements({ key: 'net-a' }))), ['result-0003']);
      assert.deepEqual(ids((await store.listMeasurements({ deviceId: DEV, limit: 2 }))), ['result-0003', 'result-0004']);
      assert.equal((await store.countMeasurements()), 5);
      assert.equal((await store.countMeasurements({ deviceId: DEV2 })), 2);
      assert.equal((await store.countMeasurements({ deviceId: DEV, level: 'op', space: 'proxyless-mobile' })), 2);
      assert.equal((await store.countMeasurements({ limit: 4 })), 4);
      assert.equal((await store.countMeasurements({ deviceId: 'dev-000000000000' })), 0);
      assert.deepEqual(
        (await store.listDevices()).map((d) => [d.id, d.measurements]),
        [[DEV, 3], [DEV2, 2]],
      );

      // a typo must not silently select everything
      await assert.rejects(async () => (await store.listMeasurements({ device: DEV } as never)), (err: Error) => {
        assert.ok(err instanceof TypeError);
        assert.match(err.message, /filter/);
        assert.match(err.message, /device/);
        return true;
      });
      await assert.rejects(async () => (await store.countMeasurements({ limit: 0 })), /invalid filter\.limit/);
      await assert.rejects(async () => (await store.listMeasurements({ level: 'kernel' as never })), /invalid filter\.level/);
    });
  });

  test('re-sent results are ignored by id and counted as duplicates', async () => {
    await withStore(async (store) => {
      await seeded(store);
      assert.deepEqual((await store.insertMeasurements([measurement(1), measurement(2), measurement(3)])), { inserted: 3, duplicates: 0 });
      // 2 already stored, 1 repeated within the batch, 2 new
      const again = [measurement(2, { stats: { ...measurement(2).stats, median: 99 } }), measurement(3), measurement(4), measurement(4), measurement(5)];
      assert.deepEqual((await store.insertMeasurements(again)), { inserted: 2, duplicates: 3 });
      assert.equal((await store.countMeasurements()), 5);
      // the first copy stored (the one acknowledged) wins
      assert.equal((await store.listMeasurements()).find((m) => m.id === 'result-0002')!.stats.median, measurement(2).stats.median);
      assert.deepEqual((await store.insertMeasurements([])), { inserted: 0, duplicates: 0 });
    });
  });

  test('a schema-violating measurement rejects the whole batch and keeps prior data', async () => {
    await withStore(async (store) => {
      await seeded(store);
      await store.insertMeasurements([measurement(1), measurement(2)]);
      const before = (await store.listMeasurements());

      const bad = [measurement(3), measurement(4, { stats: { ...measurement(4).stats, median: -1 } }), measurement(5)];
      await assert.rejects(async () => (await store.insertMeasurements(bad)), (err: Error) => {
        assert.ok(err instanceof TypeError);
        assert.ok(err instanceof StoreValidationError);
        assert.equal(err.argument, 'measurements[1].stats.median');
        assert.match(err.message, /measurements\[1\]\.stats\.median/);
        return true;
      });
      const missing = [measurement(6), { ...measurement(7), level: 'layer' } as unknown as Measurement];
      await assert.rejects(async () => (await store.insertMeasurements(missing)), /measurements\[1\]\.level/);
      const notJson = [measurement(8, { spec: { size: 10n } })];
      await assert.rejects(async () => (await store.insertMeasurements(notJson)), /measurements\[0\]\.spec: not JSON-serialisable/);
      await assert.rejects(async () => (await store.insertMeasurements('nope' as never)), /invalid measurements: must be an array/);
      await assert.rejects(async () => (await store.insertMeasurements([measurement(9, { level: 'network', anchorMs: 0 })])), /measurements\[0\]\.anchorMs/);

      assert.equal((await store.countMeasurements()), 2);
      assert.deepEqual((await store.listMeasurements()), before);
    });
  });

  test('unknown device or pass is a clear reference error and writes nothing', async () => {
    await withStore(async (store) => {
      await seeded(store);
      await store.insertMeasurements([measurement(1)]);
      await store.upsertDevice(device(DEV2, 'other'));
      await store.startPass(pass('pass-2', DEV2));

      await assert.rejects(
        async () => (await store.insertMeasurements([measurement(2), measurement(3, { deviceId: 'dev-ffffffffffff' })])),
        (err: Error) => {
          assert.ok(err instanceof StoreReferenceError);
          assert.match(err.message, /measurements\[1\]\.deviceId: unknown device 'dev-ffffffffffff'/);
          return true;
        },
      );
      await assert.rejects(
        async () => (await store.insertMeasurements([measurement(2, { passId: 'pass-404' })])),
        /measurements\[0\]\.passId: unknown pass 'pass-404'/,
      );
      // the calibration of another device's pass would normalise this measurement wrongly
      await assert.rejects(
        async () => (await store.insertMeasurements([measurement(2, { passId: 'pass-2' })])),
        /measurements\[0\]\.passId: pass 'pass-2' belongs to device 'dev-ba9876543210', not 'dev-0123456789ab'/,
      );
      await assert.rejects(async () => (await store.startPass(pass('pass-3', 'dev-ffffffffffff'))), /pass\.deviceId: unknown device 'dev-ffffffffffff'/);
      assert.equal((await store.getPass('pass-3')), undefined);
      assert.equal((await store.countMeasurements()), 1);
    });
  });

  test('passes: re-start is idempotent, a different pass under the same id conflicts, unknown finish throws', async () => {
    await withStore(async (store) => {
      await seeded(store);
      (await store.startPass(pass())); // re-sent after a reconnect
      await assert.rejects(async () => (await store.startPass({ ...pass(), calibrationKey: 'other' })), (err: Error) => {
        assert.ok(err instanceof StoreConflictError);
        assert.match(err.message, /pass 'pass-1' already exists: stored calibrationKey/);
        return true;
      });
      await assert.rejects(
        async () => (await store.finishPass('pass-9', { finishedAt: '2025-01-01T01:00:00.000Z', calibrationMs: 1, calibrationTrace: [1] })),
        (err: Error) => err instanceof StoreNotFoundError && /finishPass: unknown pass 'pass-9'/.test(err.message),
      );
      await assert.rejects(
        async () => (await store.finishPass('pass-1', { finishedAt: '2025-01-01T01:00:00.000Z', calibrationMs: 0, calibrationTrace: [] })),
        /invalid finish\.calibrationMs/,
      );
      await assert.rejects(async () => (await store.startPass({ ...pass(), calibrationTrace: [1, -2] })), /invalid pass\.calibrationTrace\[1\]/);
    });
  });

  test('upsertDevice updates a device in place and validates the profile', async () => {
    await withStore(async (store) => {
      await seeded(store);
      await store.insertMeasurements([measurement(1)]);
      const renamed = { ...device(), name: 'renamed', runtime: { ...device().runtime, threads: 4 } };
      await store.upsertDevice(renamed);
      assert.deepEqual((await store.getDevice(DEV)), renamed);
      assert.deepEqual((await store.listDevices()), [{ ...renamed, measurements: 1 }]);
      await assert.rejects(async () => (await store.upsertDevice({ ...device(), id: 'laptop' })), /invalid profile\.id/);
      await assert.rejects(
        async () => (await store.upsertDevice({ ...device(), runtime: { ...device().runtime, threads: -1 } })),
        /invalid profile\.runtime\.threads/,
      );
    });
  });

  test('a closed store refuses further calls; close is idempotent', async () => {
    await withStore(async (store) => {
      await seeded(store);
      await store.close();
      await store.close();
      await assert.rejects(async () => (await store.countMeasurements()), (err: Error) => {
        assert.ok(err instanceof StoreClosedError);
        assert.match(err.message, /countMeasurements: store '.+' is closed/);
        return true;
      });
    });
  });
}

/** Campaigns, jobs, leases, results and failures: the job queue's rules. */
function jobQueueCases(test: TestFn, withStore: WithStore): void {
  const DEV = 'dev-0123456789ab';
  const DEV2 = 'dev-ba9876543210';
  const DEV3 = 'dev-cccccccccccc';
  const AGENT = 'agent-aaaa-0001';
  const AGENT2 = 'agent-bbbb-0002';
  /** the test clock: leases are decided by the `now` the tests pass, never by the wall clock */
  const T0 = 1_750_000_000_000;
  const TTL = 60_000;

  function device(id: string, name = id): DeviceProfile {
    return {
      id,
      name,
      hardware: { cpu: 'Intel(R) Xeon(R)', cores: 16, memoryBytes: 135e9, os: 'linux', arch: 'x64', gpus: [] },
      runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
    };
  }

  function pass(deviceId: string, id = `pass-${deviceId}`): Pass {
    return {
      id,
      deviceId,
      startedAt: '2025-01-01T00:00:00.000Z',
      finishedAt: null,
      calibrationKey: 'calib-fbnet',
      calibrationMs: null,
      calibrationTrace: [],
    };
  }

  /** Registers devices the way a hello does: the device, its pass, its jobs. */
  async function register(store: Store, ...ids: string[]): Promise<number[]> {
    const created: number[] = [];
    for (const id of ids) {
      await store.upsertDevice(device(id));
      await store.startPass(pass(id));
      created.push(await store.ensureJobsForDevice(id));
    }
    return created;
  }

  function opTask(n: number, space: string | null = 'fbnet'): Extract<JobTask, { level: 'op' }> {
    return { level: 'op', space, key: `conv-k3-c${n}`, spec: { op: 'conv', cin: n, cout: n, kernel: 3, stride: 1, hw: [28, 28] } };
  }

  function netTask(arch: string): JobTask {
    return { level: 'network', space: 'fbnet', key: arch };
  }

  function request(overrides: Partial<CampaignRequest> = {}): CampaignRequest {
    return {
      space: 'fbnet',
      ops: true,
      networks: 1,
      seed: 0,
      devices: 'all',
      settings: { batch: 1, warmup: 3, minRepeats: 10, minTimeMs: 200 },
      ...overrides,
    };
  }

  function campaign(id: string, tasks: JobTask[], overrides: Partial<CampaignRequest> = {}, createdAt = '2025-01-01T00:00:00.000Z'): CampaignInput {
    return { id, createdAt, request: request(overrides), tasks };
  }

  const TASKS = [opTask(16), opTask(32), netTask('k3_e1-k5_e3')];

  /** The measurement an agent's result for `job` becomes (what the ws endpoint builds). */
  function resultFor(job: Job, deviceId: string, resultId: string, median = 1.25): Measurement {
    const task = job.task;
    return {
      id: resultId,
      deviceId,
      passId: `pass-${deviceId}`,
      level: task.level,
      space: task.space,
      key: task.key,
      spec: task.level === 'op' ? task.spec : null,
      batch: 1,
      warmup: 3,
      stats: { median, mean: median, p10: median, p90: median, stddev: 0, min: median, cv: 0, repeats: 10, outliers: 0 },
      wallMs: 40,
      calibrationMs: 2.5,
      createdAt: '2025-01-01T00:01:00.000Z',
      jobId: job.id,
    };
  }

  /** Leases `max` jobs of DEV to AGENT at `now` and returns them. */
  async function lease(store: Store, max: number, now = T0, agentId = AGENT, deviceId = DEV) {
    return (await store.leaseJobs({ deviceId, agentId, max, ttlMs: TTL, now }));
  }

  test('a campaign materialises one job per task per device, and reads back with defaults filled in', async () => {
    await withStore(async (store) => {
      await register(store, DEV, DEV2);
      const created = (await store.createCampaign(campaign('camp-1', TASKS, { name: 'first' })));
      assert.deepEqual(created, { id: 'camp-1', createdAt: '2025-01-01T00:00:00.000Z', request: request({ name: 'first' }), tasks: 3 });
      // the same layer key on two devices is two jobs
      assert.equal((await store.countJobs()), 6);
      assert.equal((await store.countJobs({ deviceId: DEV })), 3);
      assert.equal((await store.countJobs({ deviceId: DEV2, campaignId: 'camp-1', status: 'queued' })), 3);
      assert.equal((await store.countJobs({ status: 'leased' })), 0);
      assert.equal((await store.countJobs({ limit: 4 })), 4);

      const job = (await store.getJob(`camp-1:${DEV}:1`));
      assert.ok(job);
      assert.deepEqual(
        { ...job, createdAt: typeof job.createdAt },
        {
          id: `camp-1:${DEV}:1`,
          campaignId: 'camp-1',
          task: opTask(32),
          settings: request().settings,
          deviceId: DEV,
          taskIdx: 1,
          status: 'queued',
          attempts: 0,
          failures: 0,
          lastError: null,
          leaseId: null,
          leaseOwner: null,
          leaseExpiresAt: null,
          resultId: null,
          doneAt: null,
          createdAt: 'string',
        },
      );
      assert.equal((await store.getJob('nope')), undefined);
      assert.deepEqual(
        (await store.listJobs({ campaignId: 'camp-1', deviceId: DEV2 })).map((j) => j.id),
        [0, 1, 2].map((i) => `camp-1:${DEV2}:${i}`),
      );

      // defaults of a request posted with the bare minimum are stored filled in
      const minimal = { space: 'fbnet', networks: 2 } as unknown as CampaignRequest;
      const c2 = (await store.createCampaign({ id: 'camp-2', createdAt: '2025-01-02T00:00:00.000Z', request: minimal, tasks: [netTask('a'), netTask('b')] }));
      assert.equal(c2.request.devices, 'all');
      assert.deepEqual(c2.request.settings, { batch: 1, warmup: 3, minRepeats: 10, minTimeMs: 200 });
      assert.deepEqual((await store.getCampaign('camp-2')), c2);
      assert.equal((await store.getCampaign('camp-404')), undefined);
      assert.deepEqual((await store.listCampaigns()).map((c) => c.id), ['camp-2', 'camp-1']); // newest first
      assert.equal((await store.countJobs()), 10);
    });
  });

  test('a device that registers later gets the all-device campaigns, not the explicit-list ones', async () => {
    await withStore(async (store) => {
      await register(store, DEV, DEV2);
      await store.createCampaign(campaign('camp-all', TASKS));
      await store.createCampaign(campaign('camp-list', [opTask(8), opTask(9)], { devices: [DEV2] }, '2025-01-02T00:00:00.000Z'));
      assert.equal((await store.countJobs({ campaignId: 'camp-list' })), 2);
      assert.equal((await store.countJobs({ campaignId: 'camp-list', deviceId: DEV })), 0);

      assert.deepEqual((await register(store, DEV3)), [3]);
      assert.equal((await store.countJobs({ deviceId: DEV3, campaignId: 'camp-all' })), 3);
      assert.equal((await store.countJobs({ deviceId: DEV3, campaignId: 'camp-list' })), 0);
      // a second hello creates nothing and keeps the jobs' state
      await lease(store, 1, T0, AGENT, DEV3);
      assert.equal((await store.ensureJobsForDevice(DEV3)), 0);
      assert.equal((await store.ensureJobsForDevice(DEV2)), 0);
      assert.equal((await store.countJobs({ deviceId: DEV3, status: 'leased' })), 1);
      await assert.rejects(async () => (await store.ensureJobsForDevice('dev-ffffffffffff')), (err: Error) => {
        assert.ok(err instanceof StoreReferenceError);
        assert.match(err.message, /unknown device 'dev-ffffffffffff'/);
        return true;
      });
    });
  });

  test('bad campaigns are refused with the field named, and write nothing', async () => {
    await withStore(async (store) => {
      await register(store, DEV);
      const nothingWritten = async () => {
        assert.deepEqual((await store.listCampaigns()), []);
        assert.equal((await store.countJobs()), 0);
      };
      await assert.rejects(async () => (await store.createCampaign(campaign('camp-x', TASKS, { devices: [DEV, 'dev-ffffffffffff', 'dev-eeeeeeeeeeee'] }))), (err: Error) => {
        assert.ok(err instanceof StoreReferenceError);
        assert.equal(err.argument, 'campaign.request.devices');
        assert.match(err.message, /unknown devices 'dev-ffffffffffff', 'dev-eeeeeeeeeeee'/);
        return true;
      });
      await nothingWritten();
      await assert.rejects(async () => (await store.createCampaign(campaign('camp-x', [opTask(1), { level: 'op', space: null, key: '' } as JobTask]))), (err: Error) => {
        assert.ok(err instanceof TypeError);
        assert.ok(err instanceof StoreValidationError);
        assert.match(err.message, /invalid campaign\.tasks\[1\]\.key/);
        return true;
      });
      await assert.rejects(async () => (await store.createCampaign(campaign('camp-x', [opTask(1), opTask(2), opTask(1)]))), /campaign\.tasks\[2\]: repeats tasks\[0\]/);
      await assert.rejects(async () => (await store.createCampaign(campaign('camp-x', []))), /campaign\.tasks: a campaign needs at least one task/);
      await assert.rejects(async () => (await store.createCampaign(campaign('camp-x', TASKS, { ops: false, networks: 0 }))), /invalid campaign\.request\.networks/);
      await assert.rejects(async () => (await store.createCampaign(campaign('camp-x', TASKS, {}, 'yesterday'))), /invalid campaign\.createdAt/);
      await assert.rejects(async () => (await store.createCampaign(campaign('camp-x', [{ ...opTask(1), spec: { n: 1n } }]))), /campaign\.tasks\[0\]: not JSON-serialisable/);
      await nothingWritten();

      // posting the same campaign again is harmless; another one under the same id is a conflict
      const c = (await store.createCampaign(campaign('camp-1', TASKS)));
      assert.deepEqual((await store.createCampaign(campaign('camp-1', TASKS))), c);
      await assert.rejects(async () => (await store.createCampaign(campaign('camp-1', [opTask(5)]))), (err: Error) => {
        assert.ok(err instanceof StoreConflictError);
        assert.match(err.message, /campaign 'camp-1' already exists: stored with different tasks/);
        return true;
      });
      await assert.rejects(async () => (await store.createCampaign(campaign('camp-1', TASKS, { seed: 7 }))), /stored with a different request/);
      assert.equal((await store.countJobs()), 3);
    });
  });

  test('a lease takes at most max jobs, oldest campaign first, and nobody else gets them until it expires', async () => {
    await withStore(async (store) => {
      await register(store, DEV, DEV2);
      // created second but older by its timestamp: leased first
      await store.createCampaign(campaign('camp-new', [opTask(100)], {}, '2025-02-01T00:00:00.000Z'));
      await store.createCampaign(campaign('camp-old', TASKS, {}, '2025-01-01T00:00:00.000Z'));

      const first = (await lease(store, 2));
      assert.ok(first.leaseId);
      assert.equal(first.expiresAt, T0 + TTL);
      assert.deepEqual(first.jobs, [
        { id: `camp-old:${DEV}:0`, campaignId: 'camp-old', task: TASKS[0], settings: request().settings },
        { id: `camp-old:${DEV}:1`, campaignId: 'camp-old', task: TASKS[1], settings: request().settings },
      ]);
      const leased = (await store.getJob(first.jobs[0]!.id))!;
      assert.equal(leased.status, 'leased');
      assert.equal(leased.leaseOwner, AGENT);
      assert.equal(leased.leaseId, first.leaseId);
      assert.equal(leased.leaseExpiresAt, T0 + TTL);
      assert.equal(leased.attempts, 1);

      // another agent of the same device gets the rest, across campaigns, and nothing leased already
      const second = (await lease(store, 10, T0 + 1000, AGENT2));
      assert.notEqual(second.leaseId, first.leaseId);
      assert.deepEqual(second.jobs.map((j) => j.id), [`camp-old:${DEV}:2`, `camp-new:${DEV}:0`]);
      assert.deepEqual((await lease(store, 10, T0 + TTL - 1, AGENT2)), { leaseId: null, jobs: [], expiresAt: null });
      // the other device's jobs are its own
      assert.equal((await lease(store, 10, T0, AGENT2, DEV2)).jobs.length, 4);
      assert.equal((await store.countJobs({ status: 'queued' })), 0);
    });
  });

  test('an expired lease returns its jobs to the queue; re-leasing counts the attempt', async () => {
    await withStore(async (store) => {
      await register(store, DEV);
      await store.createCampaign(campaign('camp-1', TASKS));
      const first = (await lease(store, 2));
      // valid while now < expiresAt
      assert.equal((await store.expireLeases(T0 + TTL - 1)), 0);
      assert.deepEqual((await store.campaignProgress('camp-1', T0 + TTL - 1)), [{ deviceId: DEV, total: 3, queued: 1, leased: 2, done: 0, failed: 0 }]);
      // expired leases count as queued even before anything returned them
      assert.deepEqual((await store.campaignProgress('camp-1', T0 + TTL)), [{ deviceId: DEV, total: 3, queued: 3, leased: 0, done: 0, failed: 0 }]);
      assert.equal((await store.getJob(first.jobs[0]!.id))!.status, 'leased');

      // leasing returns expired leases first, so the same jobs go to the next agent, in task order
      const again = (await lease(store, 2, T0 + TTL, AGENT2));
      assert.deepEqual(again.jobs.map((j) => j.id), first.jobs.map((j) => j.id));
      const job = (await store.getJob(first.jobs[0]!.id))!;
      assert.equal(job.attempts, 2);
      assert.equal(job.leaseOwner, AGENT2);
      assert.equal(job.leaseExpiresAt, T0 + 2 * TTL);

      assert.equal((await store.expireLeases(T0 + 2 * TTL)), 2);
      assert.equal((await store.expireLeases(T0 + 2 * TTL)), 0);
      assert.deepEqual((await store.getJob(first.jobs[0]!.id)), { ...job, status: 'queued', leaseId: null, leaseOwner: null, leaseExpiresAt: null });
      await assert.rejects(async () => (await store.expireLeases(-1)), /invalid now/);
      await assert.rejects(async () => (await store.leaseJobs({ deviceId: DEV, agentId: AGENT, max: 0, ttlMs: TTL, now: T0 })), /invalid options\.max/);
      await assert.rejects(async () => (await store.leaseJobs({ deviceId: DEV, agentId: AGENT, max: 1, ttlMs: TTL, now: 1.5 })), /invalid options\.now/);
    });
  });

  test('heartbeats keep leases alive; only unexpired leases of the agent are extended', async () => {
    await withStore(async (store) => {
      await register(store, DEV);
      await store.createCampaign(campaign('camp-1', [opTask(1), opTask(2), opTask(3), opTask(4)]));
      const a = (await lease(store, 1));
      const b = (await lease(store, 1));
      const other = (await lease(store, 1, T0, AGENT2));

      // AGENT heartbeats every half TTL for three TTLs: its leases never lapse. AGENT2 does not, so
      // its leases lapse and it keeps getting only its own two jobs back, never AGENT's.
      let now = T0;
      const mine = new Set([a.jobs[0]!.id, b.jobs[0]!.id]);
      for (let i = 0; i < 6; i++) {
        now += TTL / 2;
        assert.equal((await store.extendLeases({ agentId: AGENT, expiresAt: now + TTL, now })), 2);
        const taken = (await lease(store, 10, now, AGENT2)).jobs.map((j) => j.id);
        assert.ok(taken.every((id) => !mine.has(id)), `AGENT2 got one of AGENT's jobs at step ${i}: ${taken.join(', ')}`);
      }
      assert.equal((await store.countJobs({ status: 'leased' })), 4);
      assert.equal((await store.getJob(a.jobs[0]!.id))!.leaseExpiresAt, now + TTL);
      assert.equal((await store.getJob(a.jobs[0]!.id))!.attempts, 1);
      assert.ok((await store.getJob(other.jobs[0]!.id))!.attempts > 1);

      // only the named lease; never shortened; an unknown or foreign lease id extends nothing
      assert.equal((await store.extendLeases({ agentId: AGENT, leaseIds: [a.leaseId!], expiresAt: now + 5 * TTL, now })), 1);
      assert.equal((await store.extendLeases({ agentId: AGENT, leaseIds: [b.leaseId!], expiresAt: now + 1, now })), 1);
      assert.equal((await store.getJob(b.jobs[0]!.id))!.leaseExpiresAt, now + TTL);
      assert.equal((await store.extendLeases({ agentId: AGENT, leaseIds: ['no-such-lease', other.leaseId!], expiresAt: now + TTL, now })), 0);
      assert.equal((await store.extendLeases({ agentId: AGENT, leaseIds: [], expiresAt: now + TTL, now })), 0);

      // an expired lease is not revived by a late heartbeat
      const late = now + TTL;
      assert.equal((await store.extendLeases({ agentId: AGENT, expiresAt: late + TTL, now: late })), 1); // a only
      assert.equal((await store.getJob(b.jobs[0]!.id))!.leaseExpiresAt, now + TTL);
      await assert.rejects(async () => (await store.extendLeases({ agentId: AGENT, expiresAt: late, now: late })), /invalid options\.expiresAt: must be after now/);
    });
  });

  test('releaseLeases gives an agent’s unfinished jobs back at once', async () => {
    await withStore(async (store) => {
      await register(store, DEV);
      await store.createCampaign(campaign('camp-1', [opTask(1), opTask(2), opTask(3), opTask(4)]));
      const a = (await lease(store, 2));
      const b = (await lease(store, 1));
      const other = (await lease(store, 1, T0, AGENT2));
      await store.completeJob({ jobId: a.jobs[0]!.id, deviceId: DEV, measurement: resultFor(a.jobs[0]!, DEV, 'result-a0-0001') });

      assert.equal((await store.releaseLeases({ agentId: AGENT, leaseIds: [b.leaseId!] })), 1);
      assert.equal((await store.getJob(b.jobs[0]!.id))!.status, 'queued');
      assert.equal((await store.releaseLeases({ agentId: AGENT, leaseIds: [] })), 0);
      assert.equal((await store.releaseLeases({ agentId: AGENT, leaseIds: [other.leaseId!] })), 0); // not its lease
      // all of the agent's leases; the done job stays done
      assert.equal((await store.releaseLeases({ agentId: AGENT })), 1);
      assert.equal((await store.getJob(a.jobs[0]!.id))!.status, 'done');
      assert.equal((await store.getJob(a.jobs[1]!.id))!.status, 'queued');
      assert.equal((await store.getJob(other.jobs[0]!.id))!.status, 'leased');
      assert.deepEqual((await store.campaignProgress('camp-1', T0)), [{ deviceId: DEV, total: 4, queued: 2, leased: 1, done: 1, failed: 0 }]);
      // released jobs are leased again straight away, attempts counting on
      const again = (await lease(store, 10, T0 + 1));
      const attempts = [];
      for (const j of again.jobs) attempts.push([j.id, (await store.getJob(j.id))!.attempts]);
      assert.deepEqual(attempts, [[a.jobs[1]!.id, 2], [b.jobs[0]!.id, 2]]);
    });
  });

  test('completeJob stores one measurement per job; re-sent and second results are duplicates', async () => {
    await withStore(async (store) => {
      await register(store, DEV, DEV2);
      await store.createCampaign(campaign('camp-1', TASKS));
      const { jobs } = (await lease(store, 3));
      const [op, , net] = jobs;

      const first = resultFor(op!, DEV, 'result-op-0001');
      assert.equal((await store.completeJob({ jobId: op!.id, deviceId: DEV, measurement: first, now: T0 + 5 })), 'stored');
      const done = (await store.getJob(op!.id))!;
      assert.deepEqual(
        [done.status, done.resultId, done.doneAt, done.leaseId, done.leaseOwner, done.leaseExpiresAt, done.attempts],
        ['done', 'result-op-0001', T0 + 5, null, null, null, 1],
      );
      // the agent re-sends after a reconnect: acknowledged again, nothing written
      assert.equal((await store.completeJob({ jobId: op!.id, deviceId: DEV, measurement: first })), 'duplicate');
      // a second result for a done job (another result id, other figures) does not replace the first
      const second = resultFor(op!, DEV, 'result-op-0002', 9.9);
      assert.equal((await store.completeJob({ jobId: op!.id, deviceId: DEV, measurement: second })), 'duplicate');
      assert.deepEqual((await store.listMeasurements()), [first]); // with its jobId, exactly as sent

      // a network job: spec null round-trips too
      const netResult = resultFor(net!, DEV, 'result-net-0001');
      assert.equal((await store.completeJob({ jobId: net!.id, deviceId: DEV, measurement: netResult })), 'stored');
      assert.equal((await store.countMeasurements()), 2);
      assert.deepEqual((await store.listMeasurements({ level: 'network' })), [netResult]);
      // jobId may be left to the store
      const { jobId: _omitted, ...noJobId } = resultFor(jobs[1]!, DEV, 'result-op2-0001');
      assert.equal((await store.completeJob({ jobId: jobs[1]!.id, deviceId: DEV, measurement: noJobId })), 'stored');
      assert.equal((await store.listMeasurements({ key: jobs[1]!.task.key }))[0]!.jobId, jobs[1]!.id);
      assert.deepEqual((await store.campaignProgress('camp-1', T0)), [
        { deviceId: DEV, total: 3, queued: 0, leased: 0, done: 3, failed: 0 },
        { deviceId: DEV2, total: 3, queued: 3, leased: 0, done: 0, failed: 0 },
      ]);
      assert.deepEqual((await lease(store, 10)), { leaseId: null, jobs: [], expiresAt: null });

      // a result id already stored for another job is not this job's result
      const other = (await lease(store, 1, T0, AGENT2, DEV2)).jobs[0]!;
      await assert.rejects(
        async () => (await store.completeJob({ jobId: other.id, deviceId: DEV2, measurement: resultFor(other, DEV2, 'result-op-0001') })),
        (err: Error) =>
          err instanceof StoreConflictError &&
          /measurement 'result-op-0001' already exists: it completed job 'camp-1:dev-0123456789ab:0'/.test(err.message),
      );
      assert.equal((await store.getJob(other.id))!.status, 'leased');
    });
  });

  test('a late result is accepted while the job is not done, and the other agent’s result is then a duplicate', async () => {
    await withStore(async (store) => {
      await register(store, DEV);
      await store.createCampaign(campaign('camp-1', [opTask(1)]));
      const slow = (await lease(store, 1)).jobs[0]!;
      // the slow agent's lease expires and the job goes to another agent of the same device
      const fast = (await lease(store, 1, T0 + TTL, AGENT2)).jobs[0]!;
      assert.equal(fast.id, slow.id);
      // the slow agent's result arrives first: equally valid, stored; the re-lease is over
      assert.equal((await store.completeJob({ jobId: slow.id, deviceId: DEV, measurement: resultFor(slow, DEV, 'result-slow-001') })), 'stored');
      assert.equal((await store.getJob(slow.id))!.leaseOwner, null);
      assert.equal((await store.extendLeases({ agentId: AGENT2, expiresAt: T0 + 3 * TTL, now: T0 + TTL + 1 })), 0);
      assert.equal((await store.completeJob({ jobId: fast.id, deviceId: DEV, measurement: resultFor(fast, DEV, 'result-fast-001') })), 'duplicate');
      assert.deepEqual((await store.listMeasurements()).map((m) => [m.id, m.jobId]), [['result-slow-001', slow.id]]);
      assert.equal((await store.getJob(slow.id))!.attempts, 2);
    });
  });

  test('completeJob refuses unknown, foreign, never-leased and mismatched results and writes nothing', async () => {
    await withStore(async (store) => {
      await register(store, DEV, DEV2);
      await store.createCampaign(campaign('camp-1', TASKS));
      const job = (await lease(store, 1)).jobs[0]!;
      const neverLeased = (await store.getJob(`camp-1:${DEV}:1`))!;
      const good = resultFor(job, DEV, 'result-good-001');
      /** a call of completeJob, for assert.rejects */
      const complete = (jobId: string, deviceId: string, measurement: Measurement) => () => store.completeJob({ jobId, deviceId, measurement });

      await assert.rejects(complete('camp-1:nope:0', DEV, { ...good, jobId: 'camp-1:nope:0' }), (err: Error) => {
        assert.ok(err instanceof StoreNotFoundError);
        assert.match(err.message, /completeJob: unknown job 'camp-1:nope:0'/);
        return true;
      });
      await assert.rejects(complete(job.id, DEV2, { ...good, deviceId: DEV2, passId: `pass-${DEV2}` }), (err: Error) => {
        assert.ok(err instanceof StoreJobStateError);
        assert.equal(err.code, 'wrong_device');
        assert.equal(err.jobId, job.id);
        assert.match(err.message, /belongs to device 'dev-0123456789ab', not 'dev-ba9876543210'/);
        return true;
      });
      await assert.rejects(complete(neverLeased.id, DEV, resultFor(neverLeased, DEV, 'result-early-01')), (err: Error) => {
        assert.ok(err instanceof StoreJobStateError);
        assert.equal(err.code, 'not_leased');
        assert.match(err.message, /was never leased/);
        return true;
      });
      await assert.rejects(complete(job.id, DEV, { ...good, stats: { ...good.stats, median: -1 } }), (err: Error) => {
        assert.ok(err instanceof TypeError);
        assert.ok(err instanceof StoreValidationError);
        assert.equal(err.argument, 'measurement.stats.median');
        return true;
      });
      await assert.rejects(complete(job.id, DEV, { ...good, key: 'conv-k5-c16' }), (err: Error) => {
        assert.ok(err instanceof StoreValidationError);
        assert.match(err.message, /invalid measurement\.key: job '.*' measures key "conv-k3-c16", not "conv-k5-c16"/);
        return true;
      });
      await assert.rejects(complete(job.id, DEV, { ...good, level: 'network', spec: null }), /invalid measurement\.level/);
      await assert.rejects(complete(job.id, DEV, { ...good, jobId: neverLeased.id }), /invalid measurement\.jobId/);
      await assert.rejects(complete(job.id, DEV, { ...good, deviceId: DEV2 }), /invalid measurement\.deviceId/);
      await assert.rejects(complete(job.id, DEV, { ...good, passId: 'pass-unknown' }), (err: Error) => {
        assert.ok(err instanceof StoreReferenceError);
        assert.match(err.message, /measurement\.passId: unknown pass 'pass-unknown'/);
        return true;
      });
      await assert.rejects(complete(job.id, DEV, { ...good, passId: `pass-${DEV2}` }), /measurement\.passId: pass 'pass-dev-ba9876543210' belongs to device/);

      assert.equal((await store.countMeasurements()), 0);
      assert.equal((await store.getJob(job.id))!.status, 'leased');
      assert.equal((await store.getJob(neverLeased.id))!.status, 'queued');
      assert.equal((await store.completeJob({ jobId: job.id, deviceId: DEV, measurement: good })), 'stored');
    });
  });

  test('completeJobs completes a lease’s results in one call: outcomes in order, a refused result does not keep the others from being stored', async () => {
    await withStore(async (store) => {
      await register(store, DEV, DEV2);
      await store.createCampaign(campaign('camp-1', [opTask(1), opTask(2), opTask(3), opTask(4), opTask(5), opTask(6)]));
      const jobs = (await lease(store, 6)).jobs;
      const [a, b, c, d, e, f] = jobs as [Job, Job, Job, Job, Job, Job];
      const other = (await lease(store, 1, T0, AGENT2, DEV2)).jobs[0]!; // another device's job, in the same call
      const ra = resultFor(a, DEV, 'result-batch-a01');
      const noisy: Measurement = { ...resultFor(e, DEV, 'result-batch-e01'), quality: { verdict: 'disturbed', rounds: 0, discardedRounds: 21, evidence: ['calibration 1.80× its baseline in 21 of 21 rounds'] } };
      const items = await store.completeJobs([
        { jobId: a.id, deviceId: DEV, measurement: ra, now: T0 + 7 },
        { jobId: a.id, deviceId: DEV, measurement: ra }, // the same result twice in one message: a duplicate
        { jobId: b.id, deviceId: DEV, measurement: { ...resultFor(b, DEV, 'result-batch-b01'), stats: { ...ra.stats, median: -1 } } },
        { jobId: 'camp-1:nope:0', deviceId: DEV, measurement: { ...resultFor(c, DEV, 'result-batch-x01'), jobId: 'camp-1:nope:0' } },
        { jobId: c.id, deviceId: DEV, measurement: resultFor(c, DEV, 'result-batch-c01'), now: T0 + 8 },
        { jobId: d.id, deviceId: DEV, measurement: { ...resultFor(d, DEV, 'result-batch-d01'), key: 'conv-k5-c99' } },
        { jobId: e.id, deviceId: DEV, measurement: noisy },
        { jobId: f.id, deviceId: DEV, measurement: resultFor(f, DEV, 'result-batch-a01') }, // a result id already taken by job a
        { jobId: other.id, deviceId: DEV2, measurement: resultFor(other, DEV2, 'result-batch-n01'), now: T0 + 9 },
      ]);
      assert.deepEqual(items.slice(0, 2), [{ outcome: 'stored' }, { outcome: 'duplicate' }]);
      const errorOf = (i: number): Error => {
        const item = items[i]!;
        assert.ok('error' in item, `item ${i} should be refused: ${JSON.stringify(item)}`);
        return item.error;
      };
      assert.ok(errorOf(2) instanceof StoreValidationError && (errorOf(2) as StoreValidationError).argument === 'measurement.stats.median');
      assert.ok(errorOf(3) instanceof StoreNotFoundError);
      assert.deepEqual(items[4], { outcome: 'stored' });
      assert.match(errorOf(5).message, /measures key "conv-k3-c4", not "conv-k5-c99"/);
      assert.deepEqual(items[6], { outcome: 'requeued' });
      assert.ok(errorOf(7) instanceof StoreConflictError && /it completed job 'camp-1:dev-0123456789ab:0'/.test(errorOf(7).message));
      assert.deepEqual(items[8], { outcome: 'stored' });
      assert.equal(items.length, 9);

      // what was stored is what completeJob would have stored, one by one
      const states = [];
      for (const j of [a, b, c, d, e, f, other]) {
        const job = (await store.getJob(j.id))!;
        states.push([job.status, job.resultId, job.doneAt]);
      }
      assert.deepEqual(states, [
        ['done', 'result-batch-a01', T0 + 7], ['leased', null, null], ['done', 'result-batch-c01', T0 + 8], ['leased', null, null],
        ['queued', null, null], ['leased', null, null], ['done', 'result-batch-n01', T0 + 9],
      ]);
      assert.deepEqual((await store.listMeasurements()).map((m) => m.id).sort(), ['result-batch-a01', 'result-batch-c01', 'result-batch-e01', 'result-batch-n01']);
      // two results of one job in one call (different ids): the first completes it, the second is a duplicate
      const two = await store.completeJobs([
        { jobId: b.id, deviceId: DEV, measurement: resultFor(b, DEV, 'result-batch-b02') },
        { jobId: b.id, deviceId: DEV, measurement: resultFor(b, DEV, 'result-batch-b03') },
        { jobId: d.id, deviceId: DEV, measurement: resultFor(d, DEV, 'result-batch-d02') },
      ]);
      assert.deepEqual(two, [{ outcome: 'stored' }, { outcome: 'duplicate' }, { outcome: 'stored' }]);
      assert.deepEqual([(await store.getJob(b.id))!.resultId, (await store.getJob(d.id))!.resultId], ['result-batch-b02', 'result-batch-d02']);
      assert.deepEqual(await store.completeJobs([]), []);
      await assert.rejects(async () => store.completeJobs('nope' as never), /invalid inputs: must be an array/);
    });
  });

  test('insertMeasurements keeps local profiles apart from jobs', async () => {
    await withStore(async (store) => {
      await register(store, DEV);
      await store.createCampaign(campaign('camp-1', [opTask(1)]));
      const job = (await lease(store, 1)).jobs[0]!;
      const local = resultFor(job, DEV, 'result-local-01');
      delete local.jobId;
      assert.deepEqual((await store.insertMeasurements([local, { ...local, id: 'result-local-02', jobId: null }])), { inserted: 2, duplicates: 0 });
      // no job: both read back without the key
      assert.deepEqual((await store.listMeasurements()).map((m) => 'jobId' in m), [false, false]);
      await assert.rejects(async () => (await store.insertMeasurements([{ ...local, id: 'result-local-03', jobId: job.id }])), (err: Error) => {
        assert.ok(err instanceof StoreValidationError);
        assert.match(err.message, /measurements\[0\]\.jobId: .*must be stored with completeJob/);
        return true;
      });
      // a local profile's result id cannot be passed off as a job's result
      await assert.rejects(async () => (await store.completeJob({ jobId: job.id, deviceId: DEV, measurement: { ...local, jobId: job.id } })), /it is a measurement of no job/);
      assert.equal((await store.getJob(job.id))!.status, 'leased');
    });
  });

  test('campaignProgress counts per device; an unknown campaign is not found', async () => {
    await withStore(async (store) => {
      await register(store, DEV, DEV2);
      await store.createCampaign(campaign('camp-1', [opTask(1), opTask(2), opTask(3), opTask(4)]));
      const a = (await lease(store, 3));
      await store.completeJob({ jobId: a.jobs[0]!.id, deviceId: DEV, measurement: resultFor(a.jobs[0]!, DEV, 'result-p-00001') });
      await lease(store, 1, T0 + 10, AGENT2, DEV2);
      assert.deepEqual((await store.campaignProgress('camp-1', T0 + 10)), [
        { deviceId: DEV, total: 4, queued: 1, leased: 2, done: 1, failed: 0 },
        { deviceId: DEV2, total: 4, queued: 3, leased: 1, done: 0, failed: 0 },
      ]);
      // without a clock it uses the wall clock, long after these leases expired
      assert.deepEqual((await store.campaignProgress('camp-1')).map((p) => p.leased), [0, 0]);
      await assert.rejects(async () => (await store.campaignProgress('camp-404')), (err: Error) => {
        assert.ok(err instanceof StoreNotFoundError);
        assert.match(err.message, /campaignProgress: unknown campaign 'camp-404'/);
        return true;
      });
      await assert.rejects(async () => (await store.countJobs({ state: 'done' } as never)), /invalid filter/);
      await assert.rejects(async () => (await store.countJobs({ status: 'running' as never })), /invalid filter\.status/);
    });
  });

  test('failJob requeues the job with one more failure; at MAX_JOB_FAILURES it is given up and counted as failed', async () => {
    await withStore(async (store) => {
      await register(store, DEV, DEV2);
      await store.createCampaign(campaign('camp-1', [opTask(1), opTask(2)]));
      assert.equal(MAX_JOB_FAILURES, 3);
      const first = (await lease(store, 1)).jobs[0]!;
      assert.equal(first.id, `camp-1:${DEV}:0`);

      assert.deepEqual((await store.failJob({ jobId: first.id, deviceId: DEV, agentId: AGENT, error: "unknown op 'conv9'" })), { failures: 1, gaveUp: false });
      const requeued = (await store.getJob(first.id))!;
      assert.deepEqual(
        [requeued.status, requeued.leaseId, requeued.leaseOwner, requeued.leaseExpiresAt, requeued.attempts, requeued.failures, requeued.lastError],
        ['queued', null, null, null, 1, 1, "unknown op 'conv9'"],
      );
      // back in the queue at once: not failed yet, and the next lease (any agent of the device) gets it first
      assert.deepEqual((await store.campaignProgress('camp-1', T0 + 1))[0], { deviceId: DEV, total: 2, queued: 2, leased: 0, done: 0, failed: 0 });
      assert.equal((await store.countJobs({ status: 'failed' })), 0);
      assert.equal((await lease(store, 1, T0 + 1, AGENT2)).jobs[0]!.id, first.id);
      assert.deepEqual((await store.failJob({ jobId: first.id, deviceId: DEV, agentId: AGENT2, error: 'second' })), { failures: 2, gaveUp: false });
      assert.equal((await lease(store, 1, T0 + 2)).jobs[0]!.id, first.id);
      assert.deepEqual((await store.failJob({ jobId: first.id, deviceId: DEV, agentId: AGENT, error: 'third' })), { failures: 3, gaveUp: true });

      // given up: never leased again, by anyone, even after every lease expired
      const rest = (await lease(store, 10, T0 + 3));
      assert.deepEqual(rest.jobs.map((j) => j.id), [`camp-1:${DEV}:1`]);
      assert.deepEqual((await lease(store, 10, T0 + 10 * TTL, AGENT2)).jobs.map((j) => j.id), [`camp-1:${DEV}:1`]);
      assert.deepEqual((await lease(store, 10, T0 + 10 * TTL + 1, AGENT2)), { leaseId: null, jobs: [], expiresAt: null });
      const given = (await store.getJob(first.id))!;
      assert.deepEqual([given.status, given.attempts, given.failures, given.lastError], ['queued', 3, 3, 'third']);
      assert.deepEqual((await store.campaignProgress('camp-1', T0 + 10 * TTL + 1)), [
        { deviceId: DEV, total: 2, queued: 0, leased: 1, done: 0, failed: 1 },
        { deviceId: DEV2, total: 2, queued: 2, leased: 0, done: 0, failed: 0 },
      ]);
      // 'failed' is the given-up part of the stored 'queued'
      assert.equal((await store.countJobs({ status: 'failed' })), 1);
      assert.equal((await store.countJobs({ deviceId: DEV, status: 'queued' })), 1);
      assert.equal((await store.countJobs({ deviceId: DEV2, status: 'failed' })), 0);
      assert.deepEqual((await store.listJobs({ campaignId: 'camp-1', status: 'failed' })).map((j) => [j.id, j.failures, j.lastError]), [[first.id, 3, 'third']]);
      // a given-up job is no longer anybody's to report
      await assert.rejects(async () => (await store.failJob({ jobId: first.id, deviceId: DEV, agentId: AGENT, error: 'fourth' })), (err: Error) => {
        assert.ok(err instanceof StoreJobStateError);
        assert.equal(err.code, 'not_leased');
        return true;
      });

      // finished on a device when every job is done or failed
      const other = (await store.getJob(`camp-1:${DEV}:1`))!;
      await store.completeJob({ jobId: other.id, deviceId: DEV, measurement: resultFor(other, DEV, 'result-fj-00001') });
      const [dev, dev2] = (await store.campaignProgress('camp-1', T0 + 10 * TTL + 2));
      assert.deepEqual(dev, { deviceId: DEV, total: 2, queued: 0, leased: 0, done: 1, failed: 1 });
      assert.equal(campaignFinished(dev!), true);
      assert.equal(campaignFinished(dev2!), false);

      // a result that comes after all (a slow agent of an earlier lease) is still taken: it was leased
      assert.equal((await store.completeJob({ jobId: first.id, deviceId: DEV, measurement: resultFor(first, DEV, 'result-fj-00002') })), 'stored');
      const late = (await store.getJob(first.id))!;
      assert.deepEqual([late.status, late.resultId, late.failures], ['done', 'result-fj-00002', 3]);
      assert.deepEqual((await store.campaignProgress('camp-1', T0 + 10 * TTL + 2))[0], { deviceId: DEV, total: 2, queued: 0, leased: 0, done: 2, failed: 0 });
      assert.equal((await store.countJobs({ status: 'failed' })), 0);
    });
  });

  test('failJob refuses unknown jobs, other devices and agents without the lease, and bad input; nothing is written', async () => {
    await withStore(async (store) => {
      await register(store, DEV, DEV2);
      await store.createCampaign(campaign('camp-1', TASKS));
      const [job, finished] = (await lease(store, 2)).jobs;
      await store.completeJob({ jobId: finished!.id, deviceId: DEV, measurement: resultFor(finished!, DEV, 'result-fr-00001') });
      const neverLeased = `camp-1:${DEV}:2`;
      const fail = (jobId: string, deviceId = DEV, agentId = AGENT, error = 'boom') => () => store.failJob({ jobId, deviceId, agentId, error });
      const refused = (code: string, pattern: RegExp) => (err: Error) => {
        assert.ok(err instanceof StoreJobStateError, String(err));
        assert.equal(err.code, code);
        assert.match(err.message, pattern);
        return true;
      };

      await assert.rejects(fail('camp-1:nope:0'), (err: Error) => {
        assert.ok(err instanceof StoreNotFoundError);
        assert.match(err.message, /failJob: unknown job 'camp-1:nope:0'/);
        return true;
      });
      await assert.rejects(fail(job!.id, DEV2), refused('wrong_device', /belongs to device 'dev-0123456789ab', not 'dev-ba9876543210'/));
      await assert.rejects(fail(job!.id, DEV, AGENT2), refused('not_leased', /is leased to another agent, not 'agent-bbbb-0002'/));
      await assert.rejects(fail(neverLeased), refused('not_leased', /is not leased/));
      await assert.rejects(fail(finished!.id), refused('not_leased', /is done/));
      await assert.rejects(fail(job!.id, DEV, AGENT, ''), (err: Error) => err instanceof StoreValidationError && err.argument === 'input.error');
      await assert.rejects(fail(job!.id, DEV, AGENT, 'x'.repeat(2001)), /invalid input\.error: must be at most 2000 characters/);
      await assert.rejects(async () => (await store.failJob({ jobId: job!.id, deviceId: DEV, error: 'boom' } as never)), /invalid input\.agentId/);

      const untouched = (await store.getJob(job!.id))!;
      assert.deepEqual([untouched.status, untouched.leaseOwner, untouched.failures, untouched.lastError], ['leased', AGENT, 0, null]);
      assert.deepEqual([(await store.getJob(neverLeased))!.failures, (await store.getJob(finished!.id))!.failures], [0, 0]);
      assert.equal((await store.getJob(finished!.id))!.status, 'done');

      // failJob reads the lease as stored (it takes no clock): the agent's own, expired or not, until a
      // lease call hands the job to someone else
      assert.deepEqual(await fail(job!.id)(), { failures: 1, gaveUp: false });
      // once the job went to another agent, the first one's report is refused
      const again = (await lease(store, 1, T0 + 1, AGENT2)).jobs[0]!;
      assert.equal(again.id, job!.id);
      await assert.rejects(fail(job!.id), refused('not_leased', /leased to another agent/));
      assert.equal((await store.getJob(job!.id))!.failures, 1);
    });
  });

  test('a disturbed result is stored marked and its job queued again for later; after MAX_DISTURBED_REQUEUES it completes the job, still marked', async () => {
    await withStore(async (store) => {
      await register(store, DEV);
      await store.createCampaign(campaign('camp-1', [opTask(1)]));
      const disturbed = (job: Job, id: string): Measurement => ({
        ...resultFor(job, DEV, id, 7.5),
        quality: { verdict: 'disturbed', rounds: 0, discardedRounds: 21, evidence: ['calibration 1.80× its baseline in 21 of 21 rounds'] },
      });
      let now = T0;
      const job = (await lease(store, 1, now)).jobs[0]!;
      const first = disturbed(job, 'result-dist-0001');
      assert.equal((await store.completeJob({ jobId: job.id, deviceId: DEV, measurement: first, now })), 'requeued');
      // re-sent after a reconnect: recognised, not queued again twice
      assert.equal((await store.completeJob({ jobId: job.id, deviceId: DEV, measurement: first, now })), 'duplicate');
      assert.equal((await store.getJob(job.id))!.status, 'queued');
      assert.deepEqual((await store.campaignProgress('camp-1', now))[0], { deviceId: DEV, total: 1, queued: 1, leased: 0, done: 0, failed: 0 });
      // held back: not leased until its time has come
      assert.deepEqual((await lease(store, 1, now + DISTURBED_RETRY_MS - 1)), { leaseId: null, jobs: [], expiresAt: null });
      now += DISTURBED_RETRY_MS;
      const again = (await lease(store, 1, now)).jobs[0]!;
      assert.equal(again.id, job.id);
      for (let i = 2; i <= MAX_DISTURBED_REQUEUES; i++) {
        assert.equal((await store.completeJob({ jobId: job.id, deviceId: DEV, measurement: disturbed(job, `result-dist-000${i}`), now })), 'requeued');
        // each time held back twice as long
        assert.deepEqual((await lease(store, 1, now + DISTURBED_RETRY_MS * 2 ** (i - 1) - 1)).jobs, []);
        now += DISTURBED_RETRY_MS * 2 ** (i - 1);
        assert.equal((await lease(store, 1, now)).jobs[0]!.id, job.id);
      }
      // the budget of requeues is spent: the next disturbed result completes the job, marked
      const last = disturbed(job, 'result-dist-last');
      assert.equal((await store.completeJob({ jobId: job.id, deviceId: DEV, measurement: last, now })), 'stored');
      assert.equal((await store.getJob(job.id))!.status, 'done');
      const stored = (await store.listMeasurements({ deviceId: DEV }));
      assert.equal(stored.length, MAX_DISTURBED_REQUEUES + 1, 'every disturbed measurement is kept, for the user to see');
      assert.ok(stored.every((m) => m.quality?.verdict === 'disturbed' && m.jobId === job.id));
      assert.deepEqual(stored.find((m) => m.id === 'result-dist-0001'), first, 'quality round-trips exactly');
    });
  });

  test('a clean result after a disturbed one completes the job; the disturbed measurement stays beside it', async () => {
    await withStore(async (store) => {
      await register(store, DEV);
      await store.createCampaign(campaign('camp-1', [opTask(1)]));
      const job = (await lease(store, 1)).jobs[0]!;
      const noisy: Measurement = { ...resultFor(job, DEV, 'result-dist-0001', 9), quality: { verdict: 'disturbed', rounds: 2, discardedRounds: 21, evidence: ['CPU share 0.21–0.30× of usual in 21 of 23 rounds'] } };
      assert.equal((await store.completeJob({ jobId: job.id, deviceId: DEV, measurement: noisy, now: T0 })), 'requeued');
      await lease(store, 1, T0 + DISTURBED_RETRY_MS);
      const clean: Measurement = {
        ...resultFor(job, DEV, 'result-clean-001', 1.2),
        cold: { median: 1.5, mean: 1.5, p10: 1.4, p90: 1.6, stddev: 0.05, min: 1.4, cv: 0.03, repeats: 10, outliers: 0 },
        quality: { verdict: 'remeasured', rounds: 10, discardedRounds: 3, evidence: ['calibration 1.40× its baseline in 3 of 13 rounds'] },
      };
      assert.equal((await store.completeJob({ jobId: job.id, deviceId: DEV, measurement: clean, now: T0 + DISTURBED_RETRY_MS })), 'stored');
      const done = (await store.getJob(job.id))!;
      assert.deepEqual([done.status, done.resultId], ['done', 'result-clean-001']);
      assert.deepEqual((await store.listMeasurements({ deviceId: DEV })).map((m) => [m.id, m.quality?.verdict]).sort(), [['result-clean-001', 'remeasured'], ['result-dist-0001', 'disturbed']]);
      assert.deepEqual((await store.listMeasurements({ deviceId: DEV })).find((m) => m.id === 'result-clean-001')?.cold, clean.cold);
    });
  });

  test('a device disturbed for good (most of its last results disturbed) completes its jobs at once, marked, instead of measuring them again', async () => {
    await withStore(async (store) => {
      await register(store, DEV);
      const n = PERSISTENT_WINDOW + 2;
      await store.createCampaign(campaign('camp-1', Array.from({ length: n }, (_, i) => opTask(i + 1))));
      const jobs = (await lease(store, n)).jobs;
      const outcomes: string[] = [];
      for (const [i, job] of jobs.entries()) {
        outcomes.push(
          await store.completeJob({
            jobId: job.id, deviceId: DEV, now: T0,
            measurement: { ...resultFor(job, DEV, `result-pers-${String(i).padStart(4, '0')}`, 7.5), quality: { verdict: 'disturbed', rounds: 1, discardedRounds: 12, evidence: ['calibration 3.10× its baseline in 12 of 13 rounds'] } },
          }),
        );
      }
      // the first results are queued again (the device may get quiet); once the window is full of
      // disturbed ones, the rest complete their jobs
      const firstStored = outcomes.indexOf('stored');
      assert.ok(outcomes.slice(0, PERSISTENT_WINDOW - 1).every((o) => o === 'requeued'), outcomes.join(','));
      assert.equal(firstStored, PERSISTENT_WINDOW - 1, outcomes.join(','));
      assert.ok(outcomes.slice(firstStored).every((o) => o === 'stored'));
      assert.ok((await store.listMeasurements({ deviceId: DEV })).every((m) => m.quality?.verdict === 'disturbed'), 'stored marked: no LUT or predictor uses them');
    });
  });

  test('reopening the database keeps campaigns, jobs, leases and results', async () => {
    await withStore(async (first, db) => {
      await register(first, DEV);
      await first.createCampaign(campaign('camp-1', TASKS));
      const held = await lease(first, 2);
      await first.completeJob({ jobId: held.jobs[0]!.id, deviceId: DEV, measurement: resultFor(held.jobs[0]!, DEV, 'result-r-00001') });
      const campaigns = await first.listCampaigns();
      const jobs = await first.listJobs();
      const measurements = await first.listMeasurements();
      await first.close();

      const second = await db.open();
      try {
        assert.deepEqual(await second.listCampaigns(), campaigns);
        assert.deepEqual(await second.listJobs(), jobs);
        assert.deepEqual(await second.listMeasurements(), measurements);
        // the lease survives the restart: its job is not leased again before it expires
        assert.deepEqual((await lease(second, 10, T0 + 1, AGENT2)).jobs.map((j) => j.id), [`camp-1:${DEV}:2`]);
        assert.equal(await second.extendLeases({ agentId: AGENT, leaseIds: [held.leaseId!], expiresAt: T0 + 2 * TTL, now: T0 + 2 }), 1);
        assert.equal(
          await second.completeJob({ jobId: held.jobs[0]!.id, deviceId: DEV, measurement: resultFor(held.jobs[0]!, DEV, 'result-r-00001') }),
          'duplicate',
        );
      } finally {
        await second.close();
      }
    });
  });

  // Two collector replicas on one database: every lease call of both runs at once. For SQLite the
  // calls of one process take turns on their connections (tests/collector/store-sqlite.test.ts
  // adds two processes); for a networked database they overlap for real.
  test('two stores on one database leasing at once never hand one job to both', async () => {
    await withStore(async (a, db) => {
      const b = await db.open();
      try {
        await register(a, DEV);
        const n = 60;
        await a.createCampaign(campaign('camp-1', Array.from({ length: n }, (_, i) => opTask(i + 1))));
        // more asked for than there is: 40 calls of 1–3 jobs, alternating stores and agents
        const grants = await Promise.all(
          Array.from({ length: 40 }, (_, i) => lease(i % 2 === 0 ? a : b, 1 + (i % 3), T0, i % 2 === 0 ? AGENT : AGENT2)),
        );
        const got = grants.flatMap((g) => g.jobs.map((j) => j.id));
        assert.equal(new Set(got).size, got.length, 'a job was leased twice');
        assert.equal(got.length, n, 'every job was leased once');
        // each job is held by the lease (and agent) that was told it got it
        for (const [i, g] of grants.entries()) {
          for (const j of g.jobs) {
            const stored = (await b.getJob(j.id))!;
            assert.deepEqual([stored.status, stored.leaseId, stored.leaseOwner, stored.attempts], ['leased', g.leaseId, i % 2 === 0 ? AGENT : AGENT2, 1]);
          }
        }
        assert.equal(await a.countJobs({ status: 'leased' }), n);
        assert.equal(await b.countJobs({ status: 'queued' }), 0);
      } finally {
        await b.close();
      }
    });
  });

  test('results sent to two stores at once complete each job exactly once, visible to both once acknowledged', async () => {
    await withStore(async (a, db) => {
      const b = await db.open();
      try {
        await register(a, DEV);
        const n = 12;
        await a.createCampaign(campaign('camp-1', Array.from({ length: n }, (_, i) => opTask(i + 1))));
        const jobs = [...(await lease(a, n / 2, T0, AGENT)).jobs, ...(await lease(b, n / 2, T0, AGENT2)).jobs];
        assert.equal(jobs.length, n);
        // per job: the same result re-sent through both replicas, and another agent's result for it
        const calls = jobs.flatMap((job, i) => [
          { job, store: a, id: `result-same-${String(i).padStart(4, '0')}` },
          { job, store: b, id: `result-same-${String(i).padStart(4, '0')}` },
          { job, store: i % 2 === 0 ? b : a, id: `result-other-${String(i).padStart(4, '0')}` },
        ]);
        const outcomes = await Promise.all(calls.map((c) => c.store.completeJob({ jobId: c.job.id, deviceId: DEV, measurement: resultFor(c.job, DEV, c.id), now: T0 + 1 })));
        for (const [i, job] of jobs.entries()) {
          const mine = outcomes.slice(3 * i, 3 * i + 3);
          assert.deepEqual(mine.filter((o) => o === 'stored').length, 1, `job ${job.id}: ${mine.join(', ')}`);
          assert.ok(mine.every((o) => o === 'stored' || o === 'duplicate'), mine.join(', '));
          const done = (await b.getJob(job.id))!;
          assert.equal(done.status, 'done');
          const stored = await a.listMeasurements({ key: job.task.key });
          assert.deepEqual(stored.map((m) => [m.id, m.jobId]), [[done.resultId, job.id]], 'exactly one measurement per job');
        }
        assert.equal(await a.countMeasurements(), n);
        assert.equal(await b.countMeasurements(), n);

        // acknowledged means committed: the other store reads it at once
        await register(a, DEV2);
        await b.createCampaign(campaign('camp-2', [opTask(99)], {}, '2025-01-02T00:00:00.000Z'));
        const last = (await lease(b, 1, T0, AGENT2, DEV2)).jobs[0]!;
        assert.equal(await b.completeJob({ jobId: last.id, deviceId: DEV2, measurement: resultFor(last, DEV2, 'result-ack-0001') }), 'stored');
        assert.equal((await a.getJob(last.id))!.resultId, 'result-ack-0001');
        assert.equal(await a.completeJob({ jobId: last.id, deviceId: DEV2, measurement: resultFor(last, DEV2, 'result-ack-0001') }), 'duplicate');
      } finally {
        await b.close();
      }
    });
  });
}

/** A database written by newer code is refused with a typed error, and left as it was. */
function schemaCases(test: TestFn, target: StoreContractTarget): void {
  test('opening a database whose schema is newer than this code is a MigrationError that touches nothing', async () => {
    const db = await target.fresh();
    try {
      const store = await db.open();
      await store.upsertDevice({
        id: 'dev-0123456789ab', name: 'kept',
        hardware: { cpu: 'x', cores: 2, memoryBytes: 1e9, os: 'linux', arch: 'x64', gpus: [] },
        runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
      });
      await store.close();
      await db.markSchemaNewer();
      const before = await db.snapshot();
      await assert.rejects(db.open(), (err: Error) => {
        assert.ok(err instanceof MigrationError, `${err.name}: ${err.message}`);
        assert.match(err.message, /newer than this code/);
        return true;
      });
      assert.equal(await db.snapshot(), before, 'the refused open changed the database');
    } finally {
      await db.dispose();
    }
  });
}
