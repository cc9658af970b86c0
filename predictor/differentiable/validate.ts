import type { LatencyParams } from './types.ts';

/** How far a row of probabilities may sum from 1 (float32 softmax rows are within ~1e-6). */
export const ROW_SUM_TOLERANCE = 1e-3;

/**
 * Checks a row-major `[layers × candidates]` probability grid against a model's space: the shape,
 * every value finite and ≥ 0, each row summing to 1, and padding columns (a position with fewer
 * candidates) zero. Throws a RangeError naming the problem.
 */
export function checkProbs(params: LatencyParams, shape: readonly number[], values: ArrayLike<number>): void {
  const { layers: L, candidates: C, space } = params;
  if (shape.length !== 2 || shape[0] !== L || shape[1] !== C) {
    throw new RangeError(`'probs' must have shape [${L}, ${C}] (layers × candidates of '${space}'), got [${shape.join(', ')}]`);
  }
  for (let l = 0; l < L; l++) {
    let sum = 0;
    const names = params.candidateNames[l] as Array<string | null>;
    for (let i = 0; i < C; i++) {
      const v = values[l * C + i] as number;
      if (!Number.isFinite(v)) throw new RangeError(`'probs[${l}][${i}]' is ${v}: probabilities must be finite numbers`);
      if (v < 0) throw new RangeError(`'probs[${l}][${i}]' is ${v}: probabilities must be >= 0`);
      if (names[i] === null && v !== 0) {
        throw new RangeError(`'probs[${l}][${i}]' is ${v}, but ${params.positions[l]} of '${space}' has only ${names.filter((n) => n !== null).length} candidates: padding columns must be 0`);
      }
      sum += v;
    }
    if (Math.abs(sum - 1) > ROW_SUM_TOLERANCE) {
      throw new RangeError(`'probs' row ${l} (${params.positions[l]}) sums to ${sum}, expected 1 (±${ROW_SUM_TOLERANCE})`);
    }
  }
}

/** Shape and values of a nested number array, with a TypeError naming what is not a number. */
export function flattenProbs(probs: unknown): { shape: number[]; values: Float32Array } {
  if (!Array.isArray(probs)) throw new TypeError(`'probs' must be an array of rows (layers × candidates), got ${probs === null ? 'null' : typeof probs}`);
  const rows = probs.length;
  const first = probs[0];
  if (!Array.isArray(first)) throw new TypeError(`'probs[0]' must be an array of numbers, got ${first === null ? 'null' : typeof first}`);
  const cols = first.length;
  const values = new Float32Array(rows * cols);
  probs.forEach((row: unknown, l) => {
    if (!Array.isArray(row)) throw new TypeError(`'probs[${l}]' must be an array of numbers, got ${row === null ? 'null' : typeof row}`);
    if (row.length !== cols) throw new RangeError(`'probs[${l}]' has ${row.length} values, row 0 has ${cols}: every row must have one value per candidate`);
    row.forEach((v: unknown, i) => {
      if (typeof v !== 'number') throw new TypeError(`'probs[${l}][${i}]' must be a number, got ${v === null ? 'null' : typeof v}`);
      values[l * cols + i] = v;
    });
  });
  return { shape: [rows, cols], values };
}
