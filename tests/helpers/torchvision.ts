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
export const TORCHVISION_CACHE = join(tmpdir(), 'hwlat-torchvision-opset17');

// each model written to a temporary name and renamed, so a concurrent reader never sees half a file
const EXPORT_SCRIPT = `
import os, sys, torch, torchvision
out = sys.argv[1]
for name in sys.argv[2:]:
    kw = {'weights': None}
    if name == 'googlenet':
        kw.update(aux_logits=False, init_weights=False)
    m = getattr(torchvision.models, name)(**kw).eval()
    tmp = os.path.join(out, '%s.onnx.%d.tmp' % (name, os.getpid()))
    # not under no_grad: torch 1.13 then takes the fused attention path, which does not export
    torch.onnx.export(m, torch.zeros(1, 3, 224, 224), tmp, opset_version=17)
    os.replace(tmp, os.path.join(out, name + '.onnx'))
    print(name, flush=True)
`;

/** Why torch cannot export here, or null when it can. */
export function torchUnavailable(): string | null {
  if (!existsSync(TORCH_PYTHON)) return `${TORCH_PYTHON} is absent (CI installs Debian's python3-torchvision)`;
  const r = spawnSync(TORCH_PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (r.status !== 0) return `torch/torchvision do not import in ${TORCH_PYTHON} (apt install python3-torchvision): ${(r.stderr || '').trim().split('\n').pop()}`;
  return null;
}

/**
 * The exported file of each model, exporting the ones not cached yet (a few seconds each;
 * vit_b_16 about 25 s). Throws when torch is unavailable or an export fails.
 */
export function exportTorchvision(models: readonly TorchvisionModel[] = TORCHVISION_MODELS, dir = TORCHVISION_CACHE): Map<TorchvisionModel, string> {
  mkdirSync(dir, { recursive: true });
  const paths = new Map(models.map((m) => [m, join(dir, `${m}.onnx`)] as const));
  const missing = models.filter((m) => !existsSync(paths.get(m) as string));
  if (missing.length > 0) {
    const why = torchUnavailable();
    if (why) throw new Error(why);
    const r = spawnSync(TORCH_PYTHON, ['-c', EXPORT_SCRIPT, dir, ...missing], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`exporting ${missing.join(', ')} failed: ${(r.stderr || '').trim().split('\n').slice(-5).join('\n')}`);
    for (const m of missing) if (!existsSync(paths.get(m) as string)) throw new Error(`torch did not write ${m}.onnx`);
  }
  return paths;
}

/**
 * For tests: the exported models, or null after `t.skip(reason)` when torch is not installed.
 * Under CI (process.env.CI set) a missing torch is a failure, not a skip.
 */
export function torchvisionModels(t: TestContext, models: readonly TorchvisionModel[] = TORCHVISION_MODELS): Map<TorchvisionModel, string> | null {
  const cached = models.every((m) => existsSync(join(TORCHVISION_CACHE, `${m}.onnx`)));
  const why = cached ? null : torchUnavailable();
  if (why) {
    if (process.env.CI) throw new Error(`torch is required under CI: ${why}`);
    t.skip(why);
    return null;
  }
  return exportTorchvision(models);
}
