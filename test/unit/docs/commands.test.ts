/**
 * Every command shown in the docs is run by a test. Each shell command in a fenced block of
 * README.md or docs/ must have an entry below naming the file that runs it and how; the entry is
 * checked against that file, so a test that stops running a command (or a command that moves) fails
 * here, and so does a new command with no test.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  documentationFiles,
  readDoc,
  REPO_ROOT,
  shellBlockAfter,
  shellCommands,
  type ShellCommand,
} from '../../support/markdown';

type Runner =
  /** The file runs the command by this invocation (its own spelling: argv, a script path, env). */
  | { file: string; invokes: string }
  /** The file runs, as written, the first shell block after `after` in the doc (ports aside). */
  | { file: string; blockAfter: string }
  /** The file runs every shell block of the doc, in order, as written (ports aside). */
  | { file: string; everyBlock: true };

interface Entry {
  doc: string;
  /** The command, its trailing comment dropped and spaces collapsed (`commandsOfBlock`). */
  command: string | RegExp;
  runBy: Runner[];
  /** Why this runner runs this command, where its spelling differs from the doc's. */
  note?: string;
}

const FRONT_PAGE: Entry[] = [
  {
    doc: 'README.md',
    command: 'npm ci && npm start',
    runBy: [
      { file: '.ci/run', invokes: 'npm ci' },
      { file: 'test/e2e/production.test.ts', invokes: "['source', 'npm start']" },
    ],
    note: '`npm start` is `tsx scripts/start.ts` (package.json), which test/support/platform.ts spawns',
  },
  { doc: 'README.md', command: 'npm test', runBy: [{ file: '.ci/run', invokes: 'npm test' }] },
];

const OPERATORS: Entry[] = [
  {
    doc: 'docs/operators.md',
    command:
      'CONSUL_HTTP_ADDR=http://127.0.0.1:8500 REDIS_URL=redis://127.0.0.1:6379 KAFKA_BROKERS=127.0.0.1:9092 npm start',
    runBy: [{ file: 'test/e2e/realBackends.test.ts', invokes: "backends: 'real'" }],
    note: "startPlatform({ backends: 'real' }) sets the three variables to the test stack's servers",
  },
  {
    doc: 'docs/operators.md',
    command: /^NODE_ENV=production .* node dist\/scripts\/service\.js gateway$/,
    runBy: [{ file: 'test/e2e/production.test.ts', blockAfter: 'names every problem, the variable that fixes it' }],
  },
  {
    doc: 'docs/operators.md',
    command: 'npm ci && npm run build && npm run start:prod',
    runBy: [
      { file: '.ci/run', invokes: 'npm ci' },
      { file: 'test/e2e/production.test.ts', invokes: "spawnSync('npm', ['run', 'build']" },
      { file: 'test/e2e/production.test.ts', invokes: "['compiled', 'npm run start:prod']" },
    ],
  },
];

const OBSERVABILITY: Entry[] = [
  {
    doc: 'docs/observability.md',
    command: 'test/stack/up jaeger',
    runBy: [{ file: 'test/e2e/tracing.test.ts', invokes: "execFileSync('test/stack/up', ['jaeger']" }],
  },
  {
    doc: 'docs/observability.md',
    command: 'OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npm start',
    runBy: [{ file: 'test/e2e/tracing.test.ts', invokes: 'OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl' }],
    note: "the platform as `npm start` runs it, exporting to the stack's Jaeger",
  },
  ...[
    'TRACE_ID=',
    'curl -s http://localhost:4000/graphql',
    'sleep 6',
    'curl -s "http://127.0.0.1:16686/api/traces/$TRACE_ID"',
  ].map((start): Entry => ({
    doc: 'docs/observability.md',
    command: new RegExp(`^${start.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    runBy: [{ file: 'test/e2e/tracing.test.ts', blockAfter: 'send a query in a trace of your own' }],
  })),
];

/** docs/subgraph-contract.md's commands: the Python subgraph test runs its four blocks in order. */
const CONTRACT: Entry[] = [
  /_service \{ sdl \}/,
  /^PYTHON=/,
  /^SUBGRAPH_NAME=reviews/,
  /v1\/agent\/service\/reviews/,
  /reviews \{ body \}/,
].map((command) => ({
  doc: 'docs/subgraph-contract.md',
  command,
  runBy: [
    { file: 'test/integration/polyglot/pythonSubgraph.test.ts', invokes: 'matchAll(/```bash\\n([\\s\\S]*?)```/g)' },
  ],
}));

/** The client and BFF guides: every block, run as written against a platform `npm start` runs. */
const GUIDES: Entry[] = ['docs/clients.md', 'docs/bff.md'].map((doc) => ({
  doc,
  command: /./,
  runBy: [{ file: 'test/e2e/guides.test.ts', everyBlock: true as const }],
}));

/** docs/subgraph-authors.md's `trellis new subgraph` block: the scaffold e2e runs it line by line, outside the repository. */
const SCAFFOLD: Entry[] = [
  'npm pack -w @trellis/kit --pack-destination /tmp',
  'cd /tmp',
  'npx --yes -p ./trellis-kit-0.1.0.tgz trellis new subgraph reviews --kit ./trellis-kit-0.1.0.tgz',
  'cd reviews',
  'npm install',
  'npm run build',
  'npm test',
].map((command) => ({
  doc: 'docs/subgraph-authors.md',
  command,
  runBy: [{ file: 'test/e2e/scaffold.test.ts', blockAfter: 'point the project at the tarball with `--kit`' }],
  note: 'a temporary folder for /tmp and a unique name for reviews; the pack line runs as packKit runs it, in a copy, never racing npm run build',
}));

const REGISTRY: Entry[] = [...FRONT_PAGE, ...OPERATORS, ...OBSERVABILITY, ...CONTRACT, ...GUIDES, ...SCAFFOLD];

const matches = (entry: Entry, shown: ShellCommand, doc: string) =>
  entry.doc === doc &&
  (typeof entry.command === 'string' ? entry.command === shown.command : entry.command.test(shown.command));

/** What is wrong with a runner's claim to run this command, or undefined when it holds. */
function runnerProblem(runner: Runner, doc: string, shown: ShellCommand): string | undefined {
  const file = path.join(REPO_ROOT, runner.file);
  if (!existsSync(file)) return `${runner.file} does not exist`;
  const source = readFileSync(file, 'utf8');
  if ('invokes' in runner)
    return source.includes(runner.invokes)
      ? undefined
      : `${runner.file} does not contain ${JSON.stringify(runner.invokes)}`;
  if (!source.includes(doc)) return `${runner.file} does not read ${doc}`;
  if ('everyBlock' in runner) return undefined;
  if (!source.includes(runner.blockAfter)) return `${runner.file} does not look for "${runner.blockAfter}"`;
  const block = shellBlockAfter(readDoc(doc), runner.blockAfter);
  return block.line === shown.block.line
    ? undefined
    : `the block after "${runner.blockAfter}" is at line ${block.line}, the command at ${shown.block.line}`;
}

const shown = documentationFiles().flatMap((doc) =>
  shellCommands(readDoc(doc)).map((command) => ({ doc, ...command })),
);

describe('every command shown in README.md and docs/ is run by a test', () => {
  it('finds the commands of the docs', () => {
    expect(shown.length).toBeGreaterThanOrEqual(30);
  });

  it.each(
    shown.map(
      (command) =>
        [`${command.doc}:${command.block.line} ${command.command.split('\n')[0].slice(0, 90)}`, command] as const,
    ),
  )('%s', (_name, command) => {
    const entries = REGISTRY.filter((entry) => matches(entry, command, command.doc));
    expect(entries.length).toBeGreaterThan(0);
    const problems = entries[0].runBy
      .map((runner) => runnerProblem(runner, command.doc, command))
      .filter((problem) => problem !== undefined);
    expect(problems).toEqual([]);
  });

  it('has no entry for a command the docs no longer show', () => {
    const stale = REGISTRY.filter((entry) => !shown.some((command) => matches(entry, command, command.doc)));
    expect(stale.map((entry) => `${entry.doc}: ${String(entry.command)}`)).toEqual([]);
  });
});
