/** The `trellis` CLI as a process (bin/trellis.js runs it): `trellis --help`, `trellis new subgraph <name>`. */
import { runCli } from './cli';
import { COMMANDS } from './commands';

const io = {
  cwd: process.cwd(),
  out: (text: string) => process.stdout.write(text),
  err: (text: string) => process.stderr.write(text),
};

runCli(process.argv.slice(2), io, COMMANDS).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`trellis: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
