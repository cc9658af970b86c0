import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandIn, COMMANDS } from '../../cli/command-catalog.ts';
import { hwlat } from '../helpers/cli.ts';

test('every catalog entry loads the command it names, with a description', async () => {
  const names = COMMANDS.map((c) => c.name);
  assert.equal(new Set(names).size, names.length, `duplicate names: ${names.join(', ')}`);
  for (const entry of COMMANDS) {
    const cmd = await entry.load();
    assert.equal(cmd.name(), entry.name);
    assert.ok(cmd.description().length > 0, `${entry.name} has no description`);
    assert.ok(entry.summary.length > 0 && entry.summary.length <= 100, `${entry.name}'s summary should be one line: '${entry.summary}'`);
  }
});

test('commandIn: the first word, or the one after help', () => {
  assert.equal(commandIn(['predict', '--arch', 'x']), 'predict');
  assert.equal(commandIn(['--help']), undefined);
  assert.equal(commandIn(['help', 'train']), 'train');
  assert.equal(commandIn([]), undefined);
});

test('hwlat --help lists every command by its summary; help <cmd> shows the loaded command; an unknown command is a usage error', async () => {
  const top = await hwlat(['--help']);
  assert.equal(top.code, 0, top.stderr);
  for (const entry of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${entry.name} +\\S`, 'm'), `${entry.name} missing from\n${top.stdout}`);
  const help = await hwlat(['help', 'train']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: hwlat train \[options\]/);
  assert.match(help.stdout, /--space/);
  const bad = await hwlat(['trian']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command 'trian'/);
});
