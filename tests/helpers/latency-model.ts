import seedrandom from 'seedrandom';
import { features, getSpace, sampleArchs, spaceUnits } from '../../ops-library/index.ts';
import { buildLutPredictor, savePredictor, trainPredictor, type LatencyPredictor, type NetworkSample } from '../../predictor/index.ts';

/**
 * A trained predictor for a space without profiling: a LUT over every unit from its FLOPs and
 * bytes, and network latencies from the LUT sum with an interaction (wide blocks cost more when
 * many are chosen) that the residual MLP can learn. Training is the real trainPredictor.
 */
export async function syntheticPredictor(spaceName: string, o: { networks?: number; epochs?: number; encoding?: boolean; seed?: number } = {}): Promise<LatencyPredictor> {
  const space = getSpace(spaceName);
  const lutMs = new Map<string, number>();
  for (const [key, spec] of spaceUnits(space)) {
    const f = features(spec);
    lutMs.set(key, 0.01 + f.flops / 2e7 + f.memoryBytes / 1e7);
  }
  const base = { deviceId: 'dev-synthetic0001', space, calibrationMs: 1, lutMs };
  const lutOnly = await buildLutPredictor(base);
  const archs = sampleArchs(space, { count: o.networks ?? 60, seed: o.seed ?? 5 });
  const sums = lutOnly.predictBatch(archs, { kind: 'lut-sum' });
  const rng = seedrandom.alea(`synthetic-${spaceName}`);
  const networks: NetworkSample[] = archs.map((arch, i) => {
    const names = space.parse(arch);
    const wide = names.filter((n) => /e6|MBConv6|conv_3x3/.test(n)).length / names.length;
    const noise = 1 + 0.02 * (rng() - 0.5);
    return { arch, ms: ((sums[i] as number) * 0.7 * (1 + 0.6 * wide * wide) + 0.05) * noise, passId: 'pass-synthetic' };
  });
  return trainPredictor({ ...base, networks, epochs: o.epochs ?? 40, encodingBaseline: o.encoding ?? true });
}

/** syntheticPredictor written as a predictor directory. */
export async function syntheticPredictorDir(spaceName: string, dir: string, o: Parameters<typeof syntheticPredictor>[1] = {}): Promise<LatencyPredictor> {
  const p = await syntheticPredictor(spaceName, o);
  await savePredictor(p, dir);
  return p;
}
