/**
 * The kit as a team installs it in its own repository: the packed `@trellis/kit` tarball installs into
 * a plain Node 24 project outside this repository, where every entry point loads with `require` and
 * `import`, its declarations type-check a file that imports from each entry, and the testing entry
 * starts a real subgraph that answers with a token from its issuer.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packKit } from '../support/kitTarball';

const ROOT = path.resolve(__dirname, '..', '..');
const rootPackage = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

function run(command: string, args: string[], cwd: string) {
  // No trellis-source condition here: the project sees the package as published.
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

const REQUIRE_EVERY_ENTRY = `
const entries = ['@trellis/kit', '@trellis/kit/saga', '@trellis/kit/testing', '@trellis/kit/bff', '@trellis/kit/internal', '@trellis/kit/internal/limits', '@trellis/kit/internal/limits/tokenLimit'];
console.log(JSON.stringify(Object.fromEntries(entries.map((entry) => [entry, Object.keys(require(entry)).sort()]))));
`;

const IMPORT_ENTRIES = `
import { createSubgraph } from '@trellis/kit';
import { SagaOrchestrator } from '@trellis/kit/saga';
import { ManualClock } from '@trellis/kit/testing';
import { listen } from '@trellis/kit/bff';
console.log([createSubgraph, SagaOrchestrator, ManualClock, listen].map((value) => typeof value).join(' '));
`;

const TYPED_IMPORTS = `
import { createSubgraph, gql, TrellisError, type Config, type SubgraphContext, type SubgraphOptions } from '@trellis/kit';
import { SagaRefusal, type SagaDefinition, type SagaHandler } from '@trellis/kit/saga';
import { InMemoryStateStore, ManualClock, startTestSubgraph, type TestIdentity } from '@trellis/kit/testing';
import { listen, type CorsPolicy } from '@trellis/kit/bff';
import { DevHubServer } from '@trellis/kit/internal';
import { tokenLimitError } from '@trellis/kit/internal/limits/tokenLimit';
const options: SubgraphOptions<SubgraphContext> = { name: 'typed', typeDefs: gql\`type Query { a: Int }\`, resolvers: {} };
const handlers: Record<string, SagaHandler> = {};
export const values = [createSubgraph, options, TrellisError, SagaRefusal, handlers, InMemoryStateStore, ManualClock, startTestSubgraph, listen, DevHubServer, tokenLimitError];
export type Types = [Config, SagaDefinition, TestIdentity, CorsPolicy];
// @ts-expect-error the declarations are real: a subgraph needs a name
export const wrong: SubgraphOptions<SubgraphContext> = { typeDefs: gql\`type Query { a: Int }\`, resolvers: {} };
`;

const RUN_A_SUBGRAPH = `
const { gql } = require('@trellis/kit');
const { startTestIdentity, startTestSubgraph } = require('@trellis/kit/testing');
(async () => {
  const identity = await startTestIdentity();
  const subgraph = await startTestSubgraph(() => ({ name: 'hello', typeDefs: gql\`type Query { hello: String }\`, resolvers: { Query: { hello: () => 'world' } } }), { PORT: '0', ...identity.env });
  try {
    const response = await fetch(subgraph.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(await identity.bearer('u1')) }, body: JSON.stringify({ query: '{ hello }' }) });
    console.log(JSON.stringify({ status: response.status, body: await response.json() }));
  } finally {
    await subgraph.stop();
    await identity.stop();
  }
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe('the packed kit (npm pack -w @trellis/kit) in a project outside the repository', () => {
  let tarball: string;
  let project: string;

  beforeAll(() => {
    tarball = packKit();
    project = mkdtempSync(path.join(tmpdir(), 'trellis-kit-user-'));
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'kit-user', version: '1.0.0', private: true }));
    const install = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `@types/node@${rootPackage.devDependencies['@types/node']}`], project);
    if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${install.out}`);
  });

  // The project (its node_modules) and packKit's folder: nothing left in the temporary folder run after run.
  afterAll(() => {
    for (const dir of [project, tarball && path.dirname(tarball)]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the build, its declarations and maps, the trellis bin and its templates, the README and the CHANGELOG, and no sources', () => {
    const listed = run('tar', ['tzf', tarball], project);
    expect(listed.status).toBe(0);
    const files = listed.out.trim().split('\n');
    const templates = readdirSync(path.join(ROOT, 'shared/templates'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => `package/${path.relative(path.join(ROOT, 'shared'), path.join(entry.parentPath, entry.name))}`);
    expect(files.filter((file) => !file.startsWith('package/dist/')).sort()).toEqual(
      ['package/CHANGELOG.md', 'package/README.md', 'package/package.json', 'package/bin/trellis.js', ...templates].sort(),
    );
    expect(files).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/index.js.map', 'package/dist/saga/index.d.ts', 'package/dist/testing/index.js']));
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('loads every entry point with require and with import', () => {
    const required = run(process.execPath, ['-e', REQUIRE_EVERY_ENTRY], project);
    expect(required.status).toBe(0);
    const exportsOf = JSON.parse(required.out) as Record<string, string[]>;
    expect(exportsOf['@trellis/kit']).toEqual(expect.arrayContaining(['createSubgraph', 'serveSubgraph', 'runMain', 'gql', 'createGuard', 'TrellisError', 'loadConfig']));
    expect(exportsOf['@trellis/kit/saga']).toEqual(expect.arrayContaining(['SagaOrchestrator', 'SagaRefusal', 'handleSagaCommands']));
    expect(exportsOf['@trellis/kit/testing']).toEqual(['InMemoryDiscovery', 'InMemoryEventBus', 'InMemoryStateStore', 'ManualClock', 'freePort', 'startTestIdentity', 'startTestSubgraph']);
    expect(exportsOf['@trellis/kit/bff']).toEqual(expect.arrayContaining(['listen', 'closeServer', 'BrowserBundle']));
    expect(exportsOf['@trellis/kit/internal']).toContain('DevHubServer');
    expect(exportsOf['@trellis/kit/internal/limits/tokenLimit']).toEqual(['tokenLimitError']);

    writeFileSync(path.join(project, 'entries.mjs'), IMPORT_ENTRIES);
    const imported = run(process.execPath, ['entries.mjs'], project);
    expect(imported).toEqual({ status: 0, out: 'function function function function\n' });
  });

  it('type-checks a file importing from each entry point against the declarations alone', () => {
    writeFileSync(path.join(project, 'typed.ts'), TYPED_IMPORTS);
    const compilerOptions = { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] };
    writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['typed.ts'] }));
    const checked = run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], project);
    expect(checked).toEqual({ status: 0, out: '' });
  });

  it('starts a subgraph with the testing harness, which answers a caller holding a token from the test issuer', () => {
    writeFileSync(path.join(project, 'subgraph.cjs'), RUN_A_SUBGRAPH);
    const ran = run(process.execPath, ['subgraph.cjs'], project);
    expect(ran.status).toBe(0);
    expect(JSON.parse(ran.out)).toEqual({ status: 200, body: { data: { hello: 'world' } } });
  });
});
