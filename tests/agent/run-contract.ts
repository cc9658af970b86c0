import { test } from 'node:test';
import { contractCases, type ContractTarget } from './backend-contract.ts';

/**
 * Registers the backend contract (tests/agent/backend-contract.ts) as node:test cases, one per
 * check: `runTest({ backend })` in the style of hono's runtime tests.
 *
 * @example
 * runTest({ label: 'ort-node:cpu', backend: 'ort-node', provider: 'cpu', create: createOrtNodeBackend });
 */
export function runTest(target: ContractTarget): void {
  for (const c of contractCases(target)) test(`${target.label}: ${c.name}`, { timeout: 60_000 }, () => c.run());
}
