/** Finds the command named by the first words of argv, parses the rest with `node:util` parseArgs, and runs it. */
import { parseArgs } from 'node:util';
import type { CliIo, Command } from './command';
import { UsageError } from './errors';

const HELP = ['-h', '--help'];

function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.words.join(' ').length));
  return [
    'Usage: trellis <command> [options]',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.words.join(' ').padEnd(width)}  ${command.summary}`),
    '',
    'Run `trellis <command> --help` for its options.',
    '',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [`Usage: trellis ${command.words.join(' ')} ${command.usage}`, '', command.summary, '', command.details.trimEnd(), ''].join('\n');
}

/** The command whose words start argv (the longest such), or undefined. */
function findCommand(commands: readonly Command[], argv: readonly string[]): Command | undefined {
  return [...commands].sort((a, b) => b.words.length - a.words.length).find((command) => command.words.every((word, index) => argv[index] === word));
}

/** Runs `trellis <argv>` and resolves with the exit code: 0 done, 1 failed, 2 refused usage. */
export async function runCli(argv: readonly string[], io: CliIo, commands: readonly Command[]): Promise<number> {
  if (argv.length === 0 || HELP.includes(argv[0]) || argv[0] === 'help') {
    io.out(overview(commands));
    return 0;
  }
  const command = findCommand(commands, argv);
  try {
    if (!command) {
      const words = argv.filter((arg) => !arg.startsWith('-')).join(' ');
      throw new UsageError(`unknown command "${words}"\n\n${overview(commands)}`);
    }
    const rest = argv.slice(command.words.length);
    if (rest.some((arg) => HELP.includes(arg))) {
      io.out(commandHelp(command));
      return 0;
    }
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: [...rest], options: command.options, allowPositionals: true, strict: true });
    } catch (error) {
      // parseArgs' own message names the option ("Unknown option '--x'"); it is the user's input, not a crash.
      throw new UsageError(`${(error as Error).message}\n\n${commandHelp(command)}`);
    }
    return await command.run({ positionals: parsed.positionals, options: parsed.values as Record<string, string | boolean | undefined>, io });
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`trellis: ${error.message}\n`);
      return error.exitCode;
    }
    io.err(`trellis: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
