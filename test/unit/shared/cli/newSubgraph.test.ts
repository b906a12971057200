/** `trellis new subgraph`: what it writes, and what it refuses without writing anything. */
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COMMANDS, runCli, type CliIo } from '@trellis/kit/internal/cli';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const KIT_VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'shared/package.json'), 'utf8')) as { version: string }).version;

function recordingIo(cwd: string): CliIo & { stdout: string; stderr: string } {
  const io = { cwd, stdout: '', stderr: '', out: (text: string) => void (io.stdout += text), err: (text: string) => void (io.stderr += text) };
  return io;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name))).sort();
}

const installed = (name: string) => (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

describe('trellis new subgraph', () => {
  let work: string;

  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'trellis-new-'));
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('writes the project into ./<name>, every placeholder filled, and says what to run next', async () => {
    const io = recordingIo(work);
    expect(await runCli(['new', 'subgraph', 'shipping-rates'], io, COMMANDS)).toBe(0);
    const project = path.join(work, 'shipping-rates');
    const files = await filesUnder(project);
    expect(files).toEqual(
      [
        '.dockerignore',
        '.gitignore',
        'Dockerfile',
        'README.md',
        'package.json',
        'src/itemStore.ts',
        'src/main.ts',
        'src/subgraph.ts',
        'test/shipping-rates.test.ts',
        'tsconfig.build.json',
        'tsconfig.json',
      ].sort(),
    );
    for (const file of files) expect(await readFile(path.join(project, file), 'utf8')).not.toMatch(/\{\{|\}\}/);
    const manifest = JSON.parse(await readFile(path.join(project, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
    expect(manifest.name).toBe('shipping-rates');
    expect(manifest.dependencies).toEqual({ '@trellis/kit': `^${KIT_VERSION}` });
    const subgraph = await readFile(path.join(project, 'src/subgraph.ts'), 'utf8');
    expect(subgraph).toContain("name: 'shipping-rates'");
    expect(subgraph).toContain('shippingRatesItems: [ShippingRatesItem!]!');
    expect(subgraph).toContain('type ShippingRatesItem @key(fields: "id")');
    expect(io.stdout).toContain(`Created the shipping-rates subgraph in ${project}:`);
    expect(io.stdout).toContain('  cd shipping-rates\n  npm install\n  npm test\n');
    // The same dev-hub command as the project's README shows.
    const readme = await readFile(path.join(project, 'README.md'), 'utf8');
    const devCommand = /^ {2}(TRELLIS_DEVHUB_URL=\S+ PORT=\d+ npm run dev)/m.exec(io.stdout)?.[1];
    expect(readme).toContain(`\n${devCommand}\n`);
    expect(io.stderr).toBe('');
    // Nothing else next to it: the staging folder was renamed into place.
    expect(await readdir(work)).toEqual(['shipping-rates']);
  });

  it('writes into --dir, relative to where it runs, creating its parents, or into an empty folder', async () => {
    expect(await runCli(['new', 'subgraph', 'reviews', '--dir', 'teams/reviews-service'], recordingIo(work), COMMANDS)).toBe(0);
    expect(await filesUnder(path.join(work, 'teams/reviews-service'))).toContain('test/reviews.test.ts');
    await mkdir(path.join(work, 'empty'));
    expect(await runCli(['new', 'subgraph', 'reviews', '--dir', path.join(work, 'empty')], recordingIo('/'), COMMANDS)).toBe(0);
    expect(await filesUnder(path.join(work, 'empty'))).toContain('src/main.ts');
  });

  it('writes --kit as given for a version, and as an absolute file: spec for a tarball on disk', async () => {
    await writeFile(path.join(work, 'trellis-kit-0.1.0.tgz'), 'not really a tarball');
    const kitOf = async (dir: string) => (JSON.parse(await readFile(path.join(work, dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['@trellis/kit'];
    expect(await runCli(['new', 'subgraph', 'a', '--kit', './trellis-kit-0.1.0.tgz'], recordingIo(work), COMMANDS)).toBe(0);
    expect(await kitOf('a')).toBe(`file:${path.join(work, 'trellis-kit-0.1.0.tgz')}`);
    expect(await runCli(['new', 'subgraph', 'b', '--kit', '~0.1.2'], recordingIo(work), COMMANDS)).toBe(0);
    expect(await kitOf('b')).toBe('~0.1.2');
    // A quote in the spec cannot break package.json: the value is written as a JSON string.
    expect(await runCli(['new', 'subgraph', 'c', '--kit', 'x", "evil": "1'], recordingIo(work), COMMANDS)).toBe(0);
    expect(await kitOf('c')).toBe('x", "evil": "1');
  });

  it('refuses a --kit path that does not exist, with exit 2 and nothing written', async () => {
    const io = recordingIo(work);
    expect(await runCli(['new', 'subgraph', 'reviews', '--kit', './missing.tgz'], io, COMMANDS)).toBe(2);
    expect(io.stderr).toBe('trellis: --kit ./missing.tgz: no such file or folder\n');
    expect(await readdir(work)).toEqual([]);
  });

  it('refuses a bad name with exit 2 and writes nothing', async () => {
    const io = recordingIo(work);
    expect(await runCli(['new', 'subgraph', 'Shipping_Rates'], io, COMMANDS)).toBe(2);
    expect(io.stderr).toMatch(/^trellis: invalid subgraph name "Shipping_Rates": use lower-case letters/);
    expect(await readdir(work)).toEqual([]);
  });

  it.each([[[]], [['a', 'b']]])('refuses %j names with exit 2', async (names) => {
    const io = recordingIo(work);
    expect(await runCli(['new', 'subgraph', ...names], io, COMMANDS)).toBe(2);
    expect(io.stderr).toMatch(/^trellis: new subgraph takes one name, got (none|a b)\n/);
  });

  it('refuses a folder that is not empty with exit 2, and leaves what is there untouched', async () => {
    const target = path.join(work, 'reviews');
    await mkdir(target);
    await writeFile(path.join(target, 'notes.txt'), 'mine');
    const io = recordingIo(work);
    expect(await runCli(['new', 'subgraph', 'reviews'], io, COMMANDS)).toBe(2);
    expect(io.stderr).toBe(`trellis: ${target} is not empty; choose a new folder with --dir\n`);
    expect(await filesUnder(target)).toEqual(['notes.txt']);
    expect(await readFile(path.join(target, 'notes.txt'), 'utf8')).toBe('mine');
    expect(await readdir(work)).toEqual(['reviews']);
  });

  it('refuses a --dir that is a file with exit 2', async () => {
    await writeFile(path.join(work, 'taken'), '');
    const io = recordingIo(work);
    expect(await runCli(['new', 'subgraph', 'reviews', '--dir', 'taken'], io, COMMANDS)).toBe(2);
    expect(io.stderr).toBe(`trellis: ${path.join(work, 'taken')} exists and is not a folder\n`);
  });

  it("pins the generated project's TypeScript, tsx and Node types to the versions this repository builds and tests with", async () => {
    expect(await runCli(['new', 'subgraph', 'reviews'], recordingIo(work), COMMANDS)).toBe(0);
    const { devDependencies } = JSON.parse(await readFile(path.join(work, 'reviews/package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(devDependencies).toEqual({ '@types/node': installed('@types/node'), tsx: installed('tsx'), typescript: installed('typescript') });
  });
});

describe("the project's Dockerfile (no Docker engine here: what each stage needs is checked against what the project has)", () => {
  let work: string;
  let project: string;
  let dockerfile: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'trellis-new-'));
    project = path.join(work, 'reviews');
    expect(await runCli(['new', 'subgraph', 'reviews'], recordingIo(work), COMMANDS)).toBe(0);
    dockerfile = await readFile(path.join(project, 'Dockerfile'), 'utf8');
  });

  afterAll(() => rm(work, { recursive: true, force: true }));

  it('copies only what the project has (and the lock file npm install writes), and ignores what a build makes', async () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)].flatMap((match) => match[1].split(' '));
    expect(sources.sort()).toEqual(['package-lock.json', 'package-lock.json', 'package.json', 'package.json', 'package.json', 'src', 'tsconfig.build.json', 'tsconfig.json']);
    const files = await filesUnder(project);
    for (const source of new Set(sources.filter((source) => source !== 'package-lock.json'))) expect(files.some((file) => file === source || file.startsWith(`${source}/`))).toBe(true);
    expect((await readFile(path.join(project, '.dockerignore'), 'utf8')).split('\n')).toEqual(expect.arrayContaining(['node_modules', 'dist']));
  });

  it("builds with the project's own build script and runs what it builds, as the unprivileged user under tini, in production", async () => {
    const { scripts } = JSON.parse(await readFile(path.join(project, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const { compilerOptions } = JSON.parse(await readFile(path.join(project, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
    expect(dockerfile).toContain('RUN npm run build\n');
    expect(scripts.build).toBe('tsc -p tsconfig.build.json');
    expect(compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(dockerfile).toContain('RUN npm ci --omit=dev --no-audit --no-fund\n');
    expect(dockerfile).toContain('COPY --from=build --chown=root:root /app/dist ./dist\n');
    expect(dockerfile).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "node", "--enable-source-maps", "dist/main.js"]\n');
    expect(dockerfile).toMatch(/ENV NODE_ENV=production \\\n\s+HOST=0\.0\.0\.0 \\\n\s+PORT=4000 \\\n\s+SERVICE_NAME=reviews\n/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health\/ready/m);
  });
});
