/**
 * Every command the docs show inline, in a code span of their prose, is run by a test too (the
 * fenced blocks are commands.test.ts's). A span counts as a command when a reader would type it:
 * `npm …`, `npx …`, `node` with a flag or a path, `curl`, `docker`, `kubectl`, `bash`, an executable
 * under scripts/ or test/stack/, or one of these after environment assignments. An assignment
 * standing alone (`NODE_ENV=production`, `TRELLIS_ALLOW_…=true`) is configuration, not a command,
 * and is left out, as are folders and non-executable files under scripts/ (`isInlineCommand`).
 * Each command has an entry naming the file that runs it and how; a file that stops containing
 * that invocation fails here, and so does a new inline command with no entry or an entry no doc
 * shows any more.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { documentationFiles, inlineCommands, readDoc, REPO_ROOT } from '../../support/markdown';

interface Entry {
  /** The span as shown (spaces collapsed); one entry covers every doc that shows it. */
  command: string;
  /** The file runs the command by this invocation (its own spelling: argv, a script path, env). */
  runBy: { file: string; invokes: string }[];
  /** How the runner's spelling maps to the doc's; "validated, not run" where nothing here can run it. */
  note?: string;
}

const PRODUCTION = 'test/e2e/production.test.ts';
const MANIFESTS = 'test/integration/deploy/manifests.test.ts';
const RUN_SH = 'test/run.sh';

const PLATFORM: Entry[] = [
  { command: 'npm start', runBy: [{ file: PRODUCTION, invokes: "['source', 'npm start']" }] },
  {
    command: 'SAGA_STEP_PAUSE_MS=400 npm start',
    runBy: [{ file: 'test/browser/storefront.test.ts', invokes: "startPlatform({ env: { SAGA_STEP_PAUSE_MS: '300' } })" }],
    note: 'the storefront test runs the platform slowed the same way, 300 ms a step',
  },
  {
    command: 'TRELLIS_REPLICAS=2 npm start',
    runBy: [
      { file: 'test/e2e/replicas.test.ts', invokes: 'startPlatform({ replicas: 2' },
      { file: 'test/support/platform.ts', invokes: 'TRELLIS_REPLICAS: String(replicas)' },
    ],
    note: 'the platform npm start runs, with TRELLIS_REPLICAS=2 on its own leased blocks of ports',
  },
  {
    command: 'AUTH_ISSUER=https://login.example.com/ AUTH_AUDIENCE=trellis-api npm start',
    runBy: [{ file: 'test/e2e/realIssuer.test.ts', invokes: "startPlatform({ env: { AUTH_ISSUER: `http://127.0.0.1:${port}`, AUTH_AUDIENCE: 'trellis-api' } })" }],
    note: 'an issuer of its own on loopback stands in for login.example.com',
  },
  {
    command: 'SUPERGRAPH_PATH=./supergraph.graphql npm start',
    runBy: [{ file: 'test/integration/gateway/staticMode.test.ts', invokes: 'startGateway({ SUPERGRAPH_PATH: file })' }],
    note: 'the doc says "-style": the gateway npm start runs, given the variable',
  },
  {
    command: 'node --conditions=trellis-source --import tsx gateway/main.ts --supergraph ./supergraph.graphql',
    runBy: [{ file: 'test/integration/gateway/supergraphFlag.test.ts', invokes: "['--conditions=trellis-source', '--import', 'tsx', 'gateway/main.ts', ...args]" }],
  },
  {
    command: 'curl -s http://localhost:4700/admin/supergraph.graphql > supergraph.graphql',
    runBy: [{ file: 'test/integration/gateway/staticMode.test.ts', invokes: 'fetch(`${gateway.server.admin.url}/admin/supergraph.graphql`)' }],
    note: 'the same GET on the admin listener, with fetch instead of curl',
  },
  {
    command: 'node --conditions=trellis-source --import tsx subgraphs/reviews/main.ts',
    runBy: [{ file: 'test/e2e/platform.test.ts', invokes: "const [, ...args] = command!.command.split(' ');" }],
    note: "the page's subgraphs/reviews/main.ts block written where it says, started with the page's own span, beside npm start's platform",
  },
  {
    command: 'node --conditions=trellis-source --import tsx',
    runBy: [{ file: 'test/support/processRunner.ts', invokes: "['--conditions=trellis-source', '--import', 'tsx', ENTRY]" }],
    note: 'how every service of a test platform starts from source',
  },
];

const BUILD_AND_SHIP: Entry[] = [
  { command: 'npm ci', runBy: [{ file: '.ci/run', invokes: 'npm ci' }] },
  {
    command: 'npm ci && npm run build && npm run start:prod',
    runBy: [
      { file: '.ci/run', invokes: 'npm ci' },
      { file: PRODUCTION, invokes: "spawnSync('npm', ['run', 'build']" },
      { file: PRODUCTION, invokes: "['compiled', 'npm run start:prod']" },
    ],
  },
  { command: 'npm run build', runBy: [{ file: PRODUCTION, invokes: "spawnSync('npm', ['run', 'build']" }] },
  { command: 'npm run start:prod', runBy: [{ file: PRODUCTION, invokes: "['compiled', 'npm run start:prod']" }] },
  { command: 'node dist/scripts/start.js', runBy: [{ file: 'test/support/platform.ts', invokes: "path.join(ROOT, 'dist/scripts/start.js')" }] },
  { command: 'node dist/gateway/main.js', runBy: [{ file: PRODUCTION, invokes: "path.join(ROOT, 'dist/gateway/main.js')" }] },
  { command: 'node dist/scripts/service.js gateway', runBy: [{ file: PRODUCTION, invokes: "path.join(ROOT, 'dist/scripts/service.js'), 'gateway'" }] },
  { command: 'npm ci --omit=dev', runBy: [{ file: PRODUCTION, invokes: "['ci', '--omit=dev'" }] },
  {
    command: 'npm pack -w @trellis/kit',
    runBy: [{ file: 'test/support/kitTarball.ts', invokes: "run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], copy)" }],
    note: "packed in a copy of the kit's folder, so it never races npm run build",
  },
  { command: 'scripts/runtime/node24', runBy: [{ file: '.ci/run', invokes: "scripts/runtime/node24 bash -c 'node --version && npm ci" }] },
  { command: 'scripts/runtime/node24 npm ci', runBy: [{ file: '.ci/run', invokes: "scripts/runtime/node24 bash -c 'node --version && npm ci" }] },
  ...['docker build', 'docker compose up --build', 'kubectl apply -k deploy/kubernetes/base'].map((command) => ({
    command,
    runBy: [{ file: MANIFESTS, invokes: command.startsWith('kubectl') ? "execFileSync('kubectl', ['kustomize'" : command === 'docker build' ? 'function dockerfileStages(' : "spawnSync('docker-compose', ['config', '-q']" }],
    note: 'validated, not run: no Docker engine or cluster here; the Dockerfile is parsed, compose checked by docker-compose config, the base built by kustomize and checked against the API schemas',
  })),
  {
    command: 'kubectl apply -k deploy/kubernetes/redis',
    runBy: [{ file: 'test/integration/deploy/redisInstances.test.ts', invokes: "execFileSync('kubectl', ['kustomize'" }],
    note: 'validated, not run: built by kustomize, checked against the API schemas, each Redis started locally with its flags',
  },
];

const TESTS_AND_TOOLS: Entry[] = [
  {
    command: 'npm run saga:replay-dlq [topic …]',
    runBy: [{ file: 'test/integration/events/replayDlqScript.test.ts', invokes: "['run', '--silent', 'saga:replay-dlq', ...topics]" }],
    note: 'run with no topic (the saga topics) and with topics named, on the real Kafka',
  },
  {
    command: 'npm run bench:gateway',
    runBy: [{ file: 'test/e2e/benches.test.ts', invokes: "bench('bench:gateway'," }],
    note: 'briefly, through its own BENCH_* settings, the apollo target only (a trellis target rebuilds dist/)',
  },
  {
    command: 'npm run bench:saga',
    runBy: [{ file: 'test/e2e/benches.test.ts', invokes: "bench('bench:saga'," }],
    note: 'briefly, through its own BENCH_* settings, on the embedded platform',
  },
  {
    command: 'BENCH_BACKENDS=sentinel npm run bench:saga',
    runBy: [{ file: 'test/e2e/benches.test.ts', invokes: "BENCH_BACKENDS: 'sentinel'," }],
    note: 'briefly, through its own BENCH_* settings: ack 0 and 1 on a Sentinel set the bench starts',
  },
  { command: 'npm test', runBy: [{ file: '.ci/run', invokes: 'npm test' }] },
  { command: 'test/stack/up', runBy: [{ file: RUN_SH, invokes: 'test/stack/up' }] },
  {
    command: 'test/stack/up cluster',
    runBy: [{ file: 'test/cluster.sh', invokes: 'test/stack/up redis cluster' }],
    note: 'npm run test:cluster brings the cluster up with Redis beside it',
  },
  {
    command: 'npm run test:cluster',
    runBy: [
      { file: 'package.json', invokes: '"test:cluster": "scripts/runtime/node24 bash test/cluster.sh"' },
      { file: '.ci/run', invokes: 'npm run test:cluster' },
    ],
    note: 'npm test stays on the single broker; CI runs test:cluster after it',
  },
  { command: 'test/stack/deploy-tools.sh', runBy: [{ file: RUN_SH, invokes: 'test/stack/deploy-tools.sh' }] },
  { command: 'test/stack/python.sh', runBy: [{ file: RUN_SH, invokes: 'test/stack/python.sh' }] },
  {
    command: 'npm run typecheck',
    runBy: [{ file: RUN_SH, invokes: 'npx tsc -p bff/web/storefront/client/tsconfig.json' }],
    note: "npm test runs the typecheck script's tsc invocations (checked below)",
  },
  { command: 'npm run lint', runBy: [{ file: RUN_SH, invokes: 'npx eslint .' }], note: "npm test runs the lint script's eslint" },
  {
    command: 'npm run dev',
    runBy: [{ file: 'test/e2e/scaffold.test.ts', invokes: 'npm run dev`' }],
    note: "the scaffolded project's script, run by the scaffold e2e",
  },
  ...['TRELLIS_SCREENSHOTS=1 npx jest test/browser', 'TRELLIS_SCREENSHOTS=1 npx jest test/browser/console.test.ts'].map((command) => ({
    command,
    runBy: [{ file: 'test/support/browser.ts', invokes: "process.env.TRELLIS_SCREENSHOTS !== '1'" }],
    note: 'validated, not run with the switch set (it rewrites the pictures in docs/): the browser tests read it here, and npm test runs them without it',
  })),
];

const KIT_PAGES: Entry[] = [
  { command: 'node --import tsx src/main.ts', runBy: [{ file: 'test/integration/docs/kitExamples.test.ts', invokes: "spawn(process.execPath, ['--import', 'tsx', file]" }] },
  { command: 'node --import tsx --test hello.test.ts', runBy: [{ file: 'test/integration/docs/kitExamples.test.ts', invokes: "['--import', 'tsx', '--test', '--test-reporter=tap'" }] },
];

const REGISTRY: Entry[] = [...PLATFORM, ...BUILD_AND_SHIP, ...TESTS_AND_TOOLS, ...KIT_PAGES];

const shown = documentationFiles().flatMap((doc) => inlineCommands(readDoc(doc)).map((command) => ({ doc, ...command })));

function runnerProblem(runner: Entry['runBy'][number]): string | undefined {
  const file = path.join(REPO_ROOT, runner.file);
  if (!existsSync(file)) return `${runner.file} does not exist`;
  return readFileSync(file, 'utf8').includes(runner.invokes) ? undefined : `${runner.file} does not contain ${JSON.stringify(runner.invokes)}`;
}

describe('every command shown inline in README.md and docs/ is run by a test', () => {
  it('finds the inline commands of the docs, and no configuration among them', () => {
    expect(shown.length).toBeGreaterThanOrEqual(60);
    expect(shown.map((command) => command.command)).not.toContain('NODE_ENV=production');
  });

  it.each(shown.map((command) => [`${command.doc}:${command.line} ${command.command.slice(0, 90)}`, command.command] as const))(
    '%s',
    (_name, command) => {
      const entry = REGISTRY.find((candidate) => candidate.command === command);
      expect(entry).toBeDefined();
      expect(entry!.runBy.map(runnerProblem).filter((problem) => problem !== undefined)).toEqual([]);
    },
  );

  it('has no entry for a command the docs no longer show', () => {
    expect(REGISTRY.filter((entry) => !shown.some((command) => command.command === entry.command)).map((entry) => entry.command)).toEqual([]);
  });

  it('npm test runs the same tsc invocations as npm run typecheck, and the same eslint as npm run lint', () => {
    const scripts = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const runSh = readFileSync(path.join(REPO_ROOT, RUN_SH), 'utf8');
    const typecheck = [...scripts.typecheck.matchAll(/tsc [^&']+/g)].map((match) => `npx ${match[0].trim()}`);
    expect(typecheck.length).toBe(3);
    for (const invocation of typecheck) expect(runSh).toContain(invocation);
    expect(scripts.lint).toBe('scripts/runtime/node24 eslint .');
    expect(runSh).toMatch(/^npx eslint \.$/m);
  });
});
