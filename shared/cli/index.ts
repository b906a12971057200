/** The `trellis` CLI, for its bin (`main.ts`) and its tests. */
export { runCli } from './cli';
export { COMMANDS } from './commands';
export { UsageError } from './errors';
export type { CliIo, Command, CommandInput } from './command';
export { subgraphNames, type SubgraphNames } from './scaffold/names';
