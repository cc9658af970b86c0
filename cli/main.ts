import { Command, CommanderError } from 'commander';
import { agentCommand } from './commands/agent.ts';
import { campaignCommand } from './commands/campaign.ts';
import { demoCommand } from './commands/demo.ts';
import { evalCommand, predictCommand, trainCommand } from './commands/predict.ts';
import { serveCommand } from './commands/serve.ts';
import { lutCommand } from './commands/lut.ts';
import { measurementsCommand } from './commands/measurements.ts';
import { opsCommand } from './commands/ops.ts';
import { profileCommand } from './commands/profile.ts';
import { setupCommand } from './commands/setup.ts';
import { fewshotCommand } from './commands/fewshot.ts';
import { exportCommand, searchCommand } from './commands/latency.ts';
import { onnxCommand } from './commands/onnx.ts';
import { kernelsCommand } from './commands/kernels.ts';

export function buildProgram(): Command {
  const program = new Command('hwlat')
    .description('measure and predict how fast neural networks run on real hardware')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  for (const cmd of [profileCommand(), opsCommand(), measurementsCommand(), lutCommand(), trainCommand(), predictCommand(), evalCommand(), serveCommand(), agentCommand(), campaignCommand(), setupCommand(), demoCommand()]) program.addCommand(cmd);
  program.addCommand(fewshotCommand());
  program.addCommand(onnxCommand());
  program.addCommand(kernelsCommand());
  for (const cmd of [exportCommand(), searchCommand()]) program.addCommand(cmd);
  // subcommands inherit exit handling so errors come back here as exceptions
  const override = (c: Command) => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 error, 2 usage). */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed help or the usage error
      return e.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`hwlat: error: ${(e as Error).message}\n`);
    if (process.env.HWLAT_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}
