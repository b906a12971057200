/** What one `trellis` command is: the words that name it, its options, and what it does. */
import type { ParseArgsOptionsConfig } from 'node:util';

/** Where a command writes and from where it runs: the real process's, or a test's. */
export interface CliIo {
  cwd: string;
  out(text: string): void;
  err(text: string): void;
}

export interface CommandInput {
  positionals: string[];
  options: Record<string, string | boolean | undefined>;
  io: CliIo;
}

export interface Command {
  /** The words that name it, e.g. `['new', 'subgraph']`. */
  words: string[];
  /** One line for `trellis --help`. */
  summary: string;
  /** What follows the words, e.g. `<name> [--dir <path>]`. */
  usage: string;
  /** Shown under the usage by `trellis <words> --help`. */
  details: string;
  options: ParseArgsOptionsConfig;
  /** Resolves with the process's exit code. Throws a UsageError for input the command refuses. */
  run(input: CommandInput): Promise<number>;
}
