import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { examples } from '../help-examples.ts';

/**
 * Installs the CUDA/TensorRT execution providers after an offline install: package.json's
 * allowScripts denies onnxruntime-node's install script (its CUDA download) so `npm ci` works
 * without internet; a GPU user runs onnxruntime-node's own installer here.
 */
export function setupCommand(): Command {
  return new Command('setup')
    .description("fetch optional runtime parts; '--cuda' downloads onnxruntime-node's CUDA 12 + TensorRT providers (needs internet)")
    .option('--cuda', "run onnxruntime-node's installer for the linux/x64 CUDA 12 providers")
    .addHelpText('after', examples('hwlat setup --cuda', 'hwlat agent --backend ort-node:cuda        # then check that the provider loads'))
    .action((o: { cuda?: boolean }) => {
      if (!o.cuda) throw new TypeError("nothing to set up: pass '--cuda'");
      const require = createRequire(import.meta.url);
      const pkgDir = dirname(require.resolve('onnxruntime-node/package.json'));
      const script = join(pkgDir, 'script', 'install.js');
      process.stderr.write(`running ${script} with ONNXRUNTIME_NODE_INSTALL=cuda12\n`);
      const res = spawnSync(process.execPath, [script], {
        cwd: pkgDir,
        stdio: 'inherit',
        env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' },
      });
      if (res.status !== 0) throw new Error(`onnxruntime-node's CUDA installer failed (exit ${res.status}); it needs internet access and linux/x64`);
      process.stdout.write("CUDA providers installed; check with 'hwlat agent'\n");
    });
}
