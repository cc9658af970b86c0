import { Command } from 'commander';
import { createBackend, fingerprint, listProviders, parseBackendSpec } from '../../agent/index.ts';
import { emit, intOption, table } from '../output.ts';

export function agentCommand(): Command {
  return new Command('agent')
    .description('the device agent: prints this device\'s fingerprint and the execution providers that really load here')
    .option('--backend <name[:provider]>', 'runtime backend and execution provider', 'ort-node:cpu')
    .option('--threads <n>', 'intra-op threads (0 = runtime default)', intOption('--threads', 0), 1)
    .option('--json', 'machine-readable output')
    .action(async (o: { backend: string; threads: number; json?: boolean }) => {
      const { name, provider } = parseBackendSpec(o.backend);
      const backend = await createBackend(name, { provider, threads: o.threads });
      try {
        const device = await fingerprint(backend.info);
        const providers = await listProviders();
        emit(Boolean(o.json), { device, providers }, () =>
          [
            `device ${device.id}: ${device.name}`,
            `  cpu ${device.hardware.cpu}, ${device.hardware.cores} cores, ${(device.hardware.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${device.hardware.os} ${device.hardware.arch}`,
            `  runtime ${device.runtime.backend}:${device.runtime.provider} ${device.runtime.version}, ${device.runtime.threads} threads`,
            ...device.hardware.gpus.map((g) => `  gpu ${g.vendor} ${g.model}`),
            '',
            'execution providers (onnxruntime-node):',
            table(['provider', 'bundled', 'loads', 'note'], providers.map((p) => [p.name, p.bundled ? 'yes' : 'no', p.loads ? 'yes' : 'no', p.loads ? '' : (p.error ?? '').split('\n')[0]?.slice(0, 90) ?? ''])),
            providers.some((p) => !p.loads && (p.name === 'cuda' || p.name === 'tensorrt')) ? "\nGPU providers need 'hwlat setup --cuda' (and CUDA 12 drivers)." : '',
          ].join('\n'),
        );
      } finally {
        await backend.dispose();
      }
    });
}
