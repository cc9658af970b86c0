import { Command, CommanderError } from 'commander';
import { commandIn, COMMANDS } from './command-catalog.ts';

/**
 * The `hwlat` program for an argument list: the command it runs is loaded in full, every other one
 * is a placeholder that only carries its name and summary for `hwlat --help` (see COMMANDS).
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('hwlat')
    .description('measure and predict how fast neural networks run on real hardware')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  const wanted = commandIn(argv.slice(2));
  for (const entry of COMMANDS) {
    const cmd =
      entry.name === wanted
        ? await entry.load()
        : new Command(entry.name).allowUnknownOption().action(() => {
            throw new Error(`internal: command '${entry.name}' was not loaded`);
          });
    program.addCommand(cmd.summary(entry.summary));
  }
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
  // `hwlat … | head`: the reader has what it wanted; stop quietly, as Unix tools do, instead of
  // dying on an unhandled EPIPE with a stack trace
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    await (await buildProgram(argv)).parseAsync([...argv]);
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
