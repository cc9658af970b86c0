import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DEMO_AGENTS, fitAgentsToCores, parseDemoAgents } from '../../cli/demo/agents.ts';

test('the default demo fleet leaves out agents whose threads and the collector need more cores than there are', () => {
  const two = fitAgentsToCores(DEFAULT_DEMO_AGENTS, 2);
  assert.deepEqual(two.run.map((a) => `${a.backend}@${a.threads}`), ['ort-node:cpu@1', 'ort-web:wasm@1']);
  assert.deepEqual(two.skipped.map((a) => `${a.backend}@${a.threads}`), ['ort-node:cpu@2']);
  assert.equal(fitAgentsToCores(DEFAULT_DEMO_AGENTS, 4).skipped.length, 0);
  const one = fitAgentsToCores(DEFAULT_DEMO_AGENTS, 1);
  assert.deepEqual(one.run, [DEFAULT_DEMO_AGENTS[0]], 'one core still runs the first agent');
  assert.deepEqual(fitAgentsToCores(parseDemoAgents('ort-node:cpu@8'), 4).run.map((a) => a.threads), [8]);
});
