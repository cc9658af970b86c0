import seedrandom from 'seedrandom';

/**
 * Deterministic weights: the same seed gives the same bytes, so a model rebuilt on another device
 * is the same model. Values are small (uniform in ±scale) so deep nets stay finite.
 */
export class WeightSource {
  private readonly rng: seedrandom.PRNG;
  constructor(seed: number) {
    this.rng = seedrandom.alea(`hwlat-weights-${seed}`);
  }

  uniform(n: number, scale: number, offset = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = offset + (this.rng() * 2 - 1) * scale;
    return out;
  }
}
