import { isUsable } from '../conditions/index.ts';
import { isCurrentSampleSpec } from '../ops-library/index.ts';
import { trainKernelModel, type KernelModel, type KernelModelOptions, type KernelTrainingProfile } from '../predictor/kernel-model/index.ts';
import type { Store } from './store/index.ts';

/**
 * A device's kernels timed in context, as the kernel model learns from them: every stored kernel
 * profile of the device (networks and kernel-campaign samples), a network's with the latency its
 * measurement gave with the profiler off. Profiles of disturbed measurements are left out.
 */
export async function kernelTrainingProfiles(store: Store, deviceId: string): Promise<KernelTrainingProfile[]> {
  const measurements = new Map((await store.listMeasurements({ deviceId, level: 'network' })).map((m) => [m.id, m]));
  const out: KernelTrainingProfile[] = [];
  for (const p of await store.listKernelProfiles({ deviceId })) {
    const m = p.measurementId ? measurements.get(p.measurementId) : undefined;
    if (m && !isUsable(m)) continue;
    // a campaign sample of older sample graphs (read straight from the graph input) is not timed as in a network
    if (p.source === 'sample' && !isCurrentSampleSpec(p.spec)) continue;
    out.push({ id: p.key, kernels: p.profile.kernels, measuredMs: m ? m.stats.median : null });
  }
  return out;
}

/**
 * Trains the device's kernel model (predictor/kernel-model) from what the store holds, or says what
 * is missing: a device needs kernels timed in context (`hwlat profile --kernels`, or a campaign
 * with kernel profiling) before any ONNX model can be predicted for it.
 */
export async function deviceKernelModel(store: Store, deviceId: string, options: KernelModelOptions = {}): Promise<KernelModel> {
  const profiles = await kernelTrainingProfiles(store, deviceId);
  const kernels = profiles.reduce((a, p) => a + p.kernels.length, 0);
  if (kernels < 2) {
    const left = (await store.countKernelProfiles({ deviceId })) - profiles.length;
    throw new RangeError(
      `device '${deviceId}' has ${kernels} usable kernels timed in context${left > 0 ? ` (${left} profiles left out: their networks' measurements were disturbed, or campaign samples of older sample graphs)` : ''}; ` +
        `profile some first (\`hwlat profile --kernels --space fbnet --networks 20 --db …\` on that device, on a quiet machine)`,
    );
  }
  return trainKernelModel(profiles, options);
}

/**
 * The kernel models a collector serves: one per device and regressor kind, trained on first use
 * and again once the device has new kernel profiles (a random forest per kernel type takes seconds).
 */
export class KernelModelCache {
  private readonly models = new Map<string, { profiles: number; model: KernelModel }>();

  constructor(private readonly store: Store) {}

  /** the device's model, or null when it has no kernels timed in context */
  async get(deviceId: string, options: KernelModelOptions = {}): Promise<KernelModel | null> {
    const profiles = await this.store.countKernelProfiles({ deviceId });
    if (profiles === 0) return null;
    const key = `${deviceId}\u0000${options.kind ?? ''}`;
    const hit = this.models.get(key);
    if (hit && hit.profiles === profiles) return hit.model;
    const model = await deviceKernelModel(this.store, deviceId, options);
    this.models.set(key, { profiles, model });
    return model;
  }
}
