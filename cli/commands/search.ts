import { Command } from 'commander';
import { getSpace } from '../../ops-library/index.ts';
import { initTf, PREDICTOR_KINDS, type PredictorKind } from '../../predictor/index.ts';
import { LATENCY_LOSSES, LatencyModel, type LatencyLossName } from '../../predictor/differentiable/index.ts';
import { loadMnist, measureArchs, runSearch, SAMPLERS, type Sampler } from '../search/index.ts';
import { choiceOption, emit, intOption, numberOption, progressBar, table } from '../output.ts';
import { examples } from '../help-examples.ts';
import { predictorOf } from '../predictor-dir.ts';

interface SearchFlags {
  model: string;
  space: string;
  targetMs?: number;
  loss: LatencyLossName;
  latency: boolean;
  sampler: Sampler;
  kind?: PredictorKind;
  alpha?: number;
  beta?: number;
  lambda?: number;
  warmupSteps: number;
  steps: number;
  finetuneSteps: number;
  batch: number;
  trainImages: number;
  testImages: number;
  widthDivisor: number;
  seed: number;
  measure: boolean;
  json?: boolean;
}

export function searchCommand(): Command {
  return new Command('search')
    .description('a ProxylessNAS/FBNet-style differentiable architecture search in tfjs (weight-sharing supernet on MNIST) with E[latency] in the loss; prints the found architecture and measures it here')
    .requiredOption('--model <dir>', 'predictor directory of this machine (from `hwlat train`)')
    .requiredOption('--space <name>', "search space (must be the predictor's; fbnet, fbnet-imagenet, proxyless-mobile)")
    .option('--target-ms <ms>', 'pull E[latency] toward this latency instead of down', numberOption('--target-ms', 0))
    .option('--loss <name>', `latency loss: ${Object.keys(LATENCY_LOSSES).join(', ')}`, choiceOption('--loss', Object.keys(LATENCY_LOSSES) as LatencyLossName[]), 'proxyless-mul-log')
    .option('--no-latency', 'search for accuracy alone (the baseline a latency-aware search is compared with)')
    .option('--sampler <name>', `architecture step: ${SAMPLERS.join(' (ProxylessNAS binarised paths) or ')} (FBNet Gumbel-softmax, every path)`, choiceOption('--sampler', SAMPLERS), 'two-path')
    .option('--kind <kind>', `predictor kind: ${PREDICTOR_KINDS.join(', ')} (default: the trained default)`, choiceOption('--kind', PREDICTOR_KINDS))
    .option('--alpha <x>', 'loss α (mul#log default 0.2, FBNet 0.2)', numberOption('--alpha', 0))
    .option('--beta <x>', 'loss β (mul#log default 0.3, FBNet 0.6)', numberOption('--beta', 0))
    .option('--lambda <x>', 'add#linear λ (default 0.1)', numberOption('--lambda', 0))
    .option('--warmup-steps <n>', 'weight-only steps first', intOption('--warmup-steps', 0), 100)
    .option('--steps <n>', 'alternating weight + architecture steps', intOption('--steps', 0), 200)
    .option('--finetune-steps <n>', 'steps on the derived architecture before its held-out accuracy', intOption('--finetune-steps', 0), 100)
    .option('--batch <n>', 'images per step', intOption('--batch', 1), 32)
    .option('--train-images <n>', 'MNIST training images (20% of them train α)', intOption('--train-images', 20), 4000)
    .option('--test-images <n>', 'held-out MNIST test images', intOption('--test-images', 10), 1000)
    .option('--width-divisor <n>', "supernet channels = the space's / n (at least 4)", intOption('--width-divisor', 1), 8)
    .option('--seed <n>', 'seed', intOption('--seed', 0), 0)
    .option('--no-measure', 'skip measuring the found architecture on this machine')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      examples(
        'hwlat search --model models/fbnet --space fbnet',
        'hwlat search --model models/fbnet --space fbnet --target-ms 2.5 --loss fbnet --sampler gumbel --steps 400 --json',
      ),
    )
    .action(async (o: SearchFlags) => {
      await initTf();
      const space = getSpace(o.space);
      const predictor = await predictorOf(o.model, o.space);
      // E[latency] at this machine's speed now: the calibration network measured before the search
      const before = o.measure ? await measureArchs(space, []) : { calibrationMs: null };
      const latency = o.latency ? LatencyModel.fromPredictor(predictor, { kind: o.kind, calibrationMs: before.calibrationMs ?? undefined }) : null;
      const { train, test } = loadMnist({ train: o.trainImages, test: o.testImages });
      const total = o.warmupSteps + o.steps + o.finetuneSteps;
      const bar = progressBar(`search ${space.name}`, total);
      const result = await runSearch({
        space, latency, loss: o.loss, targetMs: o.targetMs, sampler: o.sampler, alpha: o.alpha, beta: o.beta, lambda: o.lambda,
        train, test, warmupSteps: o.warmupSteps, searchSteps: o.steps, finetuneSteps: o.finetuneSteps, batchSize: o.batch, seed: o.seed,
        supernet: { widthDivisor: o.widthDivisor },
        onProgress: (stage, done, _t, info) => bar.update(done, `${stage} ce ${info.ce.toFixed(3)}${info.expectedMs !== null ? ` E[lat] ${info.expectedMs.toFixed(3)} ms` : ''}`),
      }).finally(() => bar.stop());
      latency?.dispose();
      let measured: { ms: number; calibrationMs: number | null; normalisedMs: number | null } | null = null;
      if (o.measure) {
        const m = await measureArchs(space, [result.arch]);
        const ms = m.ms[0] as number;
        const ref = predictor.data.calibrationMs;
        measured = { ms, calibrationMs: m.calibrationMs, normalisedMs: ref && m.calibrationMs ? (ms * ref) / m.calibrationMs : null };
      }
      const out = { ...result, calibrationBeforeMs: before.calibrationMs, measured };
      emit(Boolean(o.json), out, () =>
        [
          result.arch,
          table(['', ''], [
            ['held-out accuracy', `${(100 * result.accuracy).toFixed(2)}% of ${result.testImages} MNIST test images`],
            ['loss', result.loss ? `${result.loss}${result.targetMs !== null ? ` toward ${result.targetMs} ms` : ''} (ref ${result.refMs?.toFixed(3)} ms)` : 'none (accuracy alone)'],
            ['E[latency] final probs', result.expectedMs === null ? '-' : `${result.expectedMs.toFixed(3)} ms`],
            ['predicted latency', result.predictedMs === null ? '-' : `${result.predictedMs.toFixed(3)} ms`],
            ['measured latency', measured ? `${measured.ms.toFixed(3)} ms (calibration ${measured.calibrationMs?.toFixed(3)} ms)` : '-'],
            ['search time', `${result.seconds.toFixed(1)} s`],
          ]),
        ].join('\n'));
    });
}
