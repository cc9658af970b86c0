import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import {
  buildOnnx, getSpace, graphCost, lowerNetwork, lowerSpec, OPS, SPACES, spaceUnits, specKey, validateSpec, type PrimGraph,
} from '../../ops-library/index.ts';
import { emit, intOption, table } from '../output.ts';
import { archStrings, exampleArch, examples } from '../help-examples.ts';

export function opsCommand(): Command {
  const ops = new Command('ops')
    .description('operators, blocks and search spaces: list them, build ONNX models, list LUT keys')
    .addHelpText('after', examples('hwlat ops list', `hwlat ops build --space fbnet --arch '${exampleArch('fbnet')}' --out fbnet.onnx`, 'hwlat ops keys --space proxyless-mobile'));

  ops
    .command('list')
    .description('list registered operators/blocks and search spaces')
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('hwlat ops list', 'hwlat ops list --json'))
    .action((o: { json?: boolean }) => {
      const opRows = Object.values(OPS).map((d) => ({ op: d.op, level: d.level, summary: d.summary }));
      const spaceRows = Object.values(SPACES).map((s) => ({
        space: s.name,
        positions: s.positions.length,
        candidates: s.positions[0]?.choices.length ?? 0,
        lutUnits: spaceUnits(s).size,
        summary: s.summary,
      }));
      emit(Boolean(o.json), { ops: opRows, spaces: spaceRows }, () =>
        [
          'Operators and blocks:',
          table(['op', 'level', 'summary'], opRows.map((r) => [r.op, r.level, r.summary])),
          '',
          'Search spaces and fixed networks:',
          table(['space', 'positions', 'candidates', 'LUT units', 'summary'], spaceRows.map((r) => [r.space, r.positions, r.candidates, r.lutUnits, r.summary])),
        ].join('\n'),
      );
    });

  ops
    .command('build')
    .description('build an ONNX model of an architecture (--space, --arch) or of one op spec (--spec JSON)')
    .option('--space <name>', 'search space or fixed network')
    .option('--arch <string>', "architecture string of the space (fixed nets: their name or '')", '')
    .option('--spec <json>', `one op spec as JSON, e.g. '{"op":"conv2d","input":[16,32,32],"out":32,"kernel":3}'`)
    .requiredOption('--out <file>', 'where to write the .onnx model')
    .option('--batch <n>', 'batch size of the input', intOption('--batch', 1), 1)
    .option('--dynamic-batch', 'leave the batch dimension symbolic')
    .option('--seed <n>', 'weight seed', intOption('--seed', 0), 0)
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      examples(
        `hwlat ops build --space nasbench201 --arch '${exampleArch('nasbench201')}' --out cell.onnx`,
        'hwlat ops build --space resnet18 --out resnet18.onnx --dynamic-batch',
        `hwlat ops build --spec '{"op":"conv2d","input":[16,32,32],"out":32,"kernel":3}' --out conv.onnx --json`,
      ) + archStrings(),
    )
    .action((o: { space?: string; arch: string; spec?: string; out: string; batch: number; dynamicBatch?: boolean; seed: number; json?: boolean }) => {
      let graph: PrimGraph;
      let what: string;
      if (o.spec !== undefined) {
        if (o.space !== undefined) throw new TypeError("give either '--spec' or '--space', not both");
        let spec: unknown;
        try {
          spec = JSON.parse(o.spec);
        } catch (e) {
          throw new TypeError(`'--spec' is not valid JSON: ${(e as Error).message}`);
        }
        validateSpec(spec);
        graph = lowerSpec(spec);
        what = specKey(spec);
      } else if (o.space !== undefined) {
        const net = getSpace(o.space).expand(o.arch);
        graph = lowerNetwork(net);
        what = `${net.space} ${net.arch}`;
      } else {
        throw new TypeError("one of '--space' (with '--arch') or '--spec' is required");
      }
      const bytes = buildOnnx(graph, { batch: o.batch, dynamicBatch: o.dynamicBatch, seed: o.seed });
      try {
        writeFileSync(o.out, bytes);
      } catch (e) {
        throw new Error(`cannot write '${o.out}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const cost = graphCost(graph);
      const summary = { model: what, out: o.out, bytes: bytes.length, nodes: graph.nodes.length, ...cost };
      emit(Boolean(o.json), summary, () =>
        `wrote ${o.out} (${(bytes.length / 1e6).toFixed(2)} MB): ${what}\n${graph.nodes.length} primitive nodes, ${(cost.macs / 1e6).toFixed(2)} M MACs, ${(cost.params / 1e6).toFixed(3)} M params`,
      );
    });

  ops
    .command('keys')
    .description("list the canonical LUT keys of a space (every candidate), or of one architecture with '--arch'")
    .requiredOption('--space <name>', 'search space')
    .option('--arch <string>', 'only the units of this architecture')
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('hwlat ops keys --space fbnet', `hwlat ops keys --space proxyless-mobile --arch '${exampleArch('proxyless-mobile')}' --json`) + archStrings())
    .action((o: { space: string; arch?: string; json?: boolean }) => {
      const space = getSpace(o.space);
      const keys = o.arch !== undefined ? space.units(o.arch).map(specKey) : [...spaceUnits(space).keys()];
      emit(Boolean(o.json), keys, () => keys.join('\n'));
    });

  return ops;
}
