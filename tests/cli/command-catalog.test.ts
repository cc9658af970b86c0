import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
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

/** The help a user sees for a command, its addHelpText sections included. */
function helpText(cmd: Command): string {
  let out = '';
  cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  cmd.outputHelp();
  return out;
}

test('every command and subcommand ends its --help with examples: full command lines of itself', async () => {
  const missing: string[] = [];
  const visit = (cmd: Command, path: string[]) => {
    const name = [...path, cmd.name()].join(' ');
    const help = helpText(cmd);
    const lines = help.split('\n').filter((l) => /^ {2}\$ /.test(l));
    if (!/\nExamples:\n/.test(help) || !lines.some((l) => l.includes(`hwlat ${name}`))) missing.push(name);
    for (const sub of cmd.commands) visit(sub, [...path, cmd.name()]);
  };
  for (const entry of COMMANDS) visit(await entry.load(), []);
  assert.deepEqual(missing, [], `commands without examples of themselves: ${missing.join(', ')}`);
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
