import { isUsable } from '../conditions/index.ts';
import { trainKernelModel, type KernelModel, type KernelModelOptions, type KernelTrainingProfile } from '../predictor/kernel-model/index.ts';
import type { Store } from './store/index.ts';

/**
 * A device's kernels timed in context, as the kernel model learns from them: every stored kernel
 * profile of the device (networks and kernel-campaign samples), a network's with the latency its
 * measurement gave with the profiler off. Profiles of disturbed measurements are left out.
 */
export function kernelTrainingProfiles(store: Store, deviceId: string): KernelTrainingProfile[] {
  const measurements = new Map(store.listMeasurements({ deviceId, level: 'network' }).map((m) => [m.id, m]));
  const out: KernelTrainingProfile[] = [];
  for (const p of store.listKernelProfiles({ deviceId })) {
    const m = p.measurementId ? measurements.get(p.measurementId) : undefined;
    if (m && !isUsable(m)) continue;
    out.push({ id: p.key, kernels: p.profile.kernels, measuredMs: m ? m.stats.median : null });
  }
  return out;
}

/**
 * Trains the device's kernel model (predictor/kernel-model) from what the store holds, or says what
 * is missing: a device needs kernels timed in context (`hwlat profile --kernels`, or a campaign
 * with kernel profiling) before any ONNX model can be predicted for it.
 */
export function deviceKernelModel(store: Store, deviceId: string, options: KernelModelOptions = {}): KernelModel {
  const profiles = kernelTrainingProfiles(store, deviceId);
  const kernels = profiles.reduce((a, p) => a + p.kernels.length, 0);
  if (kernels < 2) {
    throw new RangeError(
      `device '${deviceId}' has ${kernels} kernels timed in context; profile some first (\`hwlat profile --kernels --space fbnet --networks 20 --db …\` on that device)`,
    );
  }
  return trainKernelModel(profiles, options);
}
