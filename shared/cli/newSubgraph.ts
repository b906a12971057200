/** `trellis new subgraph <name> [--dir <path>] [--kit <spec>]`: a standalone subgraph project, from the kit's template. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from './command';
import { UsageError } from './errors';
import { KIT_NAME, kitPackage, templateDir } from './scaffold/kitPackage';
import { subgraphNames } from './scaffold/names';
import { writeTemplate } from './scaffold/writeTemplate';

/** A `--kit` that names a file or folder on disk becomes an absolute `file:` spec, valid from the new project's folder. */
function kitSpec(given: string | undefined, cwd: string, version: string): string {
  if (given === undefined) return `^${version}`;
  if (given.trim() === '') throw new UsageError('--kit needs a value: a version, a tarball or a folder of the kit');
  const local = given.startsWith('file:') ? given.slice('file:'.length) : given;
  const onDisk = path.resolve(cwd, local);
  if (given.startsWith('file:') || given.startsWith('.') || path.isAbsolute(given) || existsSync(onDisk)) {
    if (!existsSync(onDisk)) throw new UsageError(`--kit ${given}: no such file or folder`);
    return `file:${onDisk}`;
  }
  return given;
}

export const newSubgraph: Command = {
  words: ['new', 'subgraph'],
  summary: 'Write a new subgraph project: package.json, tsconfig, src/main.ts, a test, a Dockerfile and a README.',
  usage: '<name> [--dir <path>] [--kit <spec>]',
  details: `
<name>          lower-case letters, digits and single dashes, starting with a letter (e.g. reviews)
--dir <path>    where to write it (default ./<name>); must be absent or empty
--kit <spec>    the ${KIT_NAME} dependency to write (default: this kit's version); a tarball
                or folder path becomes a file: spec, e.g. --kit ./trellis-kit-0.1.0.tgz

Example:
  npx trellis new subgraph reviews --dir ../reviews
`,
  options: {
    dir: { type: 'string' },
    kit: { type: 'string' },
  },
  async run({ positionals, options, io }) {
    if (positionals.length !== 1) throw new UsageError(`new subgraph takes one name, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
    const names = subgraphNames(positionals[0]);
    const kit = kitPackage();
    const target = path.resolve(io.cwd, typeof options.dir === 'string' ? options.dir : names.name);
    const values = { ...names, kitSpec: JSON.stringify(kitSpec(options.kit as string | undefined, io.cwd, kit.version)) };
    const files = await writeTemplate(templateDir(kit, 'subgraph'), target, values);
    const shown = path.relative(io.cwd, target) || '.';
    io.out(
      [
        `Created the ${names.name} subgraph in ${target}:`,
        ...files.map((file) => `  ${file}`),
        '',
        'Next:',
        `  cd ${shown}`,
        '  npm install',
        '  npm test',
        '  TRELLIS_DEVHUB_URL=ws://127.0.0.1:4600 PORT=4010 npm run dev    # joins the platform of `npm start` (README.md: Consul, Redis, Kafka too)',
        '',
      ].join('\n'),
    );
    return 0;
  },
};
