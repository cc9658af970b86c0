import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/**
 * Real models from outside the project: torchvision classifiers (random weights, `weights=None`)
 * exported by torch itself with `torch.onnx.export` at opset 17, 1×3×224×224. Debian's
 * `python3-torchvision` (torch 1.13) provides them; nothing is downloaded and nothing is committed:
 * the files are made at test time into a cache under the OS temp dir, shared by test files and
 * benchmark runs.
 */
export const TORCHVISION_MODELS = Object.freeze([
  'resnet18', 'resnet50', 'mobilenet_v2', 'mobilenet_v3_small', 'mobilenet_v3_large', 'efficientnet_b0',
  'shufflenet_v2_x1_0', 'squeezenet1_0', 'densenet121', 'mnasnet1_0', 'googlenet', 'regnet_y_400mf',
  'convnext_tiny', 'vit_b_16',
] as const);
export type TorchvisionModel = (typeof TORCHVISION_MODELS)[number];

/** Debian's interpreter, where apt's torch lives (a `python3` earlier on PATH may lack it). */
export const TORCH_PYTHON = '/usr/bin/python3';
export const TORCHVISION_CACHE = join(tmpdir(), 'hwlat-torchvision');

// each model written to a temporary name and renamed, so a concurrent reader never sees half a file
const EXPORT_SCRIPT = `
import os, sys, torch, torchvision
out = sys.argv[1]
opset = int(sys.argv[2])
suffix = '' if opset == 17 else '.opset%d' % opset
for name in sys.argv[3:]:
    kw = {'weights': None}
    if name == 'googlenet':
        kw.update(aux_logits=False, init_weights=False)
    m = getattr(torchvision.models, name)(**kw).eval()
    tmp = os.path.join(out, '%s%s.onnx.%d.tmp' % (name, suffix, os.getpid()))
    # not under no_grad: torch 1.13 then takes the fused attention path, which does not export
    torch.onnx.export(m, torch.zeros(1, 3, 224, 224), tmp, opset_version=opset)
    os.replace(tmp, os.path.join(out, name + suffix + '.onnx'))
    print(name, flush=True)
`;

/** Why torch cannot export here, or null when it can. */
export function torchUnavailable(): string | null {
  if (!existsSync(TORCH_PYTHON)) return `${TORCH_PYTHON} is absent (CI installs Debian's python3-torchvision)`;
  const r = spawnSync(TORCH_PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (r.status !== 0) return `torch/torchvision do not import in ${TORCH_PYTHON} (apt install python3-torchvision): ${(r.stderr || '').trim().split('\n').pop()}`;
  return null;
}

const fileOf = (dir: string, model: string, opset: number) => join(dir, `${model}${opset === 17 ? '' : `.opset${opset}`}.onnx`);

/**
 * The exported file of each model, exporting the ones not cached yet (a few seconds each;
 * vit_b_16 about 25 s). `opset` other than 17 exports as older tools did (model-zoo files are
 * mostly opset 7–12). Throws when torch is unavailable or an export fails.
 */
export function exportTorchvision(models: readonly TorchvisionModel[] = TORCHVISION_MODELS, dir = TORCHVISION_CACHE, opset = 17): Map<TorchvisionModel, string> {
  mkdirSync(dir, { recursive: true });
  const paths = new Map(models.map((m) => [m, fileOf(dir, m, opset)] as const));
  const missing = models.filter((m) => !existsSync(paths.get(m) as string));
  if (missing.length > 0) {
    const why = torchUnavailable();
    if (why) throw new Error(why);
    const r = spawnSync(TORCH_PYTHON, ['-c', EXPORT_SCRIPT, dir, String(opset), ...missing], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`exporting ${missing.join(', ')} (opset ${opset}) failed: ${(r.stderr || '').trim().split('\n').slice(-5).join('\n')}`);
    for (const m of missing) if (!existsSync(paths.get(m) as string)) throw new Error(`torch did not write ${paths.get(m)}`);
  }
  return paths;
}

/**
 * For tests: the exported models, or null after `t.skip(reason)` when torch is not installed.
 * Under CI (process.env.CI set) a missing torch is a failure, not a skip.
 */
export function torchvisionModels(t: TestContext, models: readonly TorchvisionModel[] = TORCHVISION_MODELS, opset = 17): Map<TorchvisionModel, string> | null {
  const cached = models.every((m) => existsSync(fileOf(TORCHVISION_CACHE, m, opset)));
  const why = cached ? null : torchUnavailable();
  if (why) {
    if (process.env.CI) throw new Error(`torch is required under CI: ${why}`);
    t.skip(why);
    return null;
  }
  return exportTorchvision(models, TORCHVISION_CACHE, opset);
}
