// The backend contract against onnxruntime-node's CPU provider.
import { createOrtNodeBackend } from '../../agent/backends/ort-node.ts';
import { runTest } from './run-contract.ts';

runTest({ label: 'ort-node:cpu', backend: 'ort-node', provider: 'cpu', create: createOrtNodeBackend });
