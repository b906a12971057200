/**
 * Issue 28's "done when", end to end: from a folder outside the repository, the commands the docs
 * show for `trellis new subgraph` (the bin of the packed kit tarball, run through npx) write a
 * project that installs the tarball, builds and passes its own test; started with the command its
 * own README shows, on the variables of a platform running on the real Consul, Redis and Kafka, it
 * registers, the gateway composes it in and plans its fields to it, and its items land in Redis;
 * SIGTERM takes it out of Consul and out of the supergraph. Its README's other way, `npm run dev`
 * on the dev hub of the embedded platform (`npm start`), joins that platform too.
 */
import { mkdtemp, readFile, readdir, realpath, rm } from 'node:fs/promises';
import { renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { eventually, postGraphQL } from '../support/graphql';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { realBackends, uniquePrefix } from '../support/backends';
import { freePort } from '../support/ports';
import { packKit } from '../support/kitTarball';
import { fencedBlocks, readDoc, shellBlockAfter } from '../support/markdown';
import { forgetNpx, outsideEnv, processUnder, runShell, spawnShell, type ShellProcess } from '../support/scaffoldRun';

const ROOT = path.resolve(__dirname, '..', '..');
const DOC = 'docs/subgraph-authors.md';
/** The doc's block that makes a new subgraph, the first after this phrase. */
const NEW_SUBGRAPH = shellBlockAfter(readDoc(DOC), 'point the project at the tarball with `--kit`').body;
/** The name and the folder the doc uses; the test writes its own unique name (a dashed one, the hard case for GraphQL names). */
const SHOWN_NAME = 'reviews';
const SHOWN_TMP = '/tmp';
const STEP_MS = 240_000;

/** The bash blocks of the generated project's README. */
const projectCommands = async (project: string) => fencedBlocks(await readFile(path.join(project, 'README.md'), 'utf8')).filter((block) => block.language === 'bash').map((block) => block.body);

describe('trellis new subgraph: a project outside the repository joins a platform on Consul, Redis and Kafka', () => {
  const name = uniquePrefix('scaffold');
  const field = name.replace(/-([a-z0-9])/g, (_, next: string) => next.toUpperCase());
  const type = field[0].toUpperCase() + field.slice(1);
  let work: string;
  let project: string;
  let npxSpec: string | undefined;
  /** The platform on Consul, Redis and Kafka; then the embedded one (`npm start`, its dev hub), one after the other (each picks free ports). */
  let platformStarting: Promise<RunningPlatform> | undefined;
  let embeddedStarting: Promise<RunningPlatform> | undefined;
  const running: ShellProcess[] = [];
  const redis = new Redis(realBackends.redisUrl, { lazyConnect: true });

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'trellis-scaffold-'));
    project = path.join(work, name);
    expect(path.relative(ROOT, work).startsWith('..')).toBe(true);
  });

  afterAll(async () => {
    for (const shell of running) await shell.kill();
    for (const starting of [platformStarting, embeddedStarting]) await (await starting?.catch(() => undefined))?.stop();
    redis.disconnect();
    if (npxSpec) await forgetNpx(npxSpec, work);
    await rm(work, { recursive: true, force: true });
  }, 60_000);

  it('runs the documented commands outside the repository: pack the kit, write the project with the bin of the tarball, install, build, test', async () => {
    expect(NEW_SUBGRAPH).toContain('trellis new subgraph');
    const lines = NEW_SUBGRAPH.split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.replaceAll(SHOWN_TMP, work).replace(new RegExp(`\\b${SHOWN_NAME}\\b`, 'g'), name));
    let cwd = ROOT;
    const timings: string[] = [];
    for (const line of lines) {
      const started = Date.now();
      const cd = /^cd (\S+)$/.exec(line);
      if (cd) {
        cwd = path.resolve(cwd, cd[1]);
        continue;
      }
      const npx = /^npx (?:--yes )?-p (\S+) /.exec(line);
      if (npx) {
        npxSpec = npx[1];
        // Nothing an earlier run left in npx's cache for this spec is used: npx installs the tarball of this run.
        await forgetNpx(npxSpec, cwd);
      }
      const packs = line.startsWith('npm pack');
      // `npm pack -w @trellis/kit` in the repository, as packKit runs it: in a temporary copy, so it never races
      // another worker's `npm run build` rebuilding shared/dist (the tarball would miss files).
      if (packs) expect([line, cwd]).toEqual([`npm pack -w @trellis/kit --pack-destination ${work}`, ROOT]);
      // prefer-offline, as a user's npmrc may say: packages npm has cached are not asked for again (what is missing still is).
      const output = packs ? packInto(work) : await runShell(line, cwd, { ...outsideEnv(), npm_config_prefer_offline: 'true' }, STEP_MS);
      timings.push(`${((Date.now() - started) / 1000).toFixed(1)}s  ${line}`);
      if (packs) {
        // The platforms start as soon as the kit is packed, while the project installs and builds.
        platformStarting = startPlatform({ backends: 'real', timeoutMs: 180_000 });
        embeddedStarting = platformStarting.then(() => startPlatform({ timeoutMs: 180_000 }));
        // Awaited by the tests that use them; a failure to start is theirs to report.
        embeddedStarting.catch(() => undefined);
        // What the project needs from the tarball is in it: the compiled entry points, the bin, the templates.
        const packed = await runShell(`tar tzf ${output.trim()}`, work, outsideEnv(), 30_000);
        for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/cli/main.js', 'bin/trellis.js', 'templates/subgraph/src/main.ts.tmpl', 'templates/subgraph/gitignore.tmpl']) {
          expect(packed).toContain(`package/${file}\n`);
        }
      }
      if (line.startsWith('npm test')) expect([output.match(/\bpass (\d+)/)?.[1], output.match(/\bfail (\d+)/)?.[1]]).toEqual(['3', '0']);
      if (line.startsWith('npx ')) expect(output).toContain(`Created the ${name} subgraph in ${project}:`);
    }
    process.stdout.write(`scaffold steps:\n  ${timings.join('\n  ')}\n`);
    expect(cwd).toBe(project);
    expect((await readdir(path.join(project, 'dist'))).sort()).toEqual(expect.arrayContaining(['itemStore.js', 'main.js', 'subgraph.js']));
    // The project depends on the tarball it was told, not on the repository.
    const manifest = JSON.parse(await readFile(path.join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies['@trellis/kit']).toMatch(new RegExp(`^file:${work}/trellis-kit-[0-9.]+\\.tgz$`));
    expect(path.relative(ROOT, await realpath(path.join(project, 'node_modules/@trellis/kit'))).startsWith('..')).toBe(true);
  }, 4 * STEP_MS);

  it('checks its configuration once at start, as its README says: --print-config shows the defaults, a bad value and production without real backends are refused by name', async () => {
    const node = (env: Record<string, string>, ...args: string[]) => runShell(['node', 'dist/main.js', ...args].join(' '), project, { ...outsideEnv(), ...env }, 60_000);
    const printed = JSON.parse(await node({}, '--print-config')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(printed).toMatchObject({ logLevel: 'info', http: { host: '127.0.0.1', advertiseHost: '127.0.0.1' }, redis: { keyPrefix: '' }, kafka: { topicPrefix: '' }, backends: { kafkaBrokers: [] } });
    expect([printed.http.port, printed.auth, printed.backends.consulUrl, printed.backends.redisUrl, printed.backends.devHubUrl]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect((JSON.parse(await node({ HOST: '0.0.0.0' }, '--print-config')) as { http: unknown }).http).toMatchObject({ host: '0.0.0.0', advertiseHost: '127.0.0.1' });

    await expect(node({ PORT: 'eighty' })).rejects.toThrow(/failed \(2\):[\s\S]*PORT/);
    // What the Dockerfile runs (NODE_ENV=production): no embedded backend, and no Consul without its ACL token.
    await expect(node({ NODE_ENV: 'production' })).rejects.toThrow(/failed \(2\):[\s\S]*CONSUL_HTTP_ADDR is not set[\s\S]*REDIS_URL is not set[\s\S]*KAFKA_BROKERS is not set/);
    const real = { NODE_ENV: 'production', CONSUL_HTTP_ADDR: realBackends.consulUrl, REDIS_URL: realBackends.redisUrl, KAFKA_BROKERS: realBackends.kafkaBrokers.join(',') };
    await expect(node(real)).rejects.toThrow(/failed \(2\):[\s\S]*set CONSUL_HTTP_TOKEN/);
  }, STEP_MS);

  it('starts with the command of its README on the platform\'s Consul, Redis and Kafka, and the gateway composes it in', async () => {
    const platform = await platformStarting!;
    const readme = await projectCommands(project);
    const [start] = readme.filter((block) => block.includes('CONSUL_HTTP_ADDR='));
    const [ask] = readme.filter((block) => block.includes('curl'));
    const port = await freePort();
    const command = start
      .replace('CONSUL_HTTP_ADDR=http://127.0.0.1:8500', `CONSUL_HTTP_ADDR=${realBackends.consulUrl}`)
      .replace('REDIS_URL=redis://127.0.0.1:6379', `REDIS_URL=${realBackends.redisUrl}`)
      .replace('KAFKA_BROKERS=127.0.0.1:9092', `KAFKA_BROKERS=${realBackends.kafkaBrokers.join(',')}`)
      .replace('PORT=4010', `PORT=${port}`);
    expect(command).toContain(`PORT=${port} npm start`);
    // The platform's own prefixes and namespace, as the README says ("the same values as the gateway's").
    const { CONSUL_NAMESPACE, REDIS_KEY_PREFIX, KAFKA_TOPIC_PREFIX } = platform.backendEnv;
    const subgraph = spawnShell(command, project, { ...outsideEnv(), CONSUL_NAMESPACE, REDIS_KEY_PREFIX, KAFKA_TOPIC_PREFIX });
    running.push(subgraph);
    const { child, output } = subgraph;
    // Composed in: the gateway plans the new field to it (no gateway restart, no config change).
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`the subgraph exited with ${child.exitCode}:\n${output()}`);
      const { body } = await postGraphQL(platform.gatewayUrl, `{ ${field}Items { id } }`);
      expect(body).toEqual({ data: { [`${field}Items`]: [] } });
    }, 90_000, 250);
    expect(output()).toMatch(/"backends":\{"discovery":"real","state":"real","cache":"real","events":"real"\}/);
    const [instance] = (await (await fetch(`${realBackends.consulUrl}/v1/health/service/${name}`)).json()) as Array<{ Service: { Port: number; Tags: string[] }; Checks: Array<{ Status: string }> }>;
    expect(instance.Service).toMatchObject({ Port: port, Tags: [`trellis-subgraph@${platform.backendEnv.CONSUL_NAMESPACE}`] });

    // The README's queries, through the gateway: the mutation adds an item, the query lists it.
    const answers = (await runShell(ask.replaceAll('http://localhost:4000/graphql', platform.gatewayUrl), project, outsideEnv(), 30_000))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { data: Record<string, { id?: string; title?: string }> });
    const id = answers[0].data[`add${type}Item`].id!;
    expect(answers).toEqual([{ data: { [`add${type}Item`]: { id } } }, { data: { [`${field}Items`]: [{ title: 'first' }] } }]);
    // Kept in the platform's Redis, under its prefix, where every replica reads it.
    expect(JSON.parse((await redis.get(`${platform.backendEnv.REDIS_KEY_PREFIX}${name}:item:${id}`))!)).toEqual({ id, title: 'first' });
  }, 4 * STEP_MS);

  it('on SIGTERM to its Node process (what Docker and its Dockerfile\'s tini send) deregisters from Consul, exits 0, and the gateway composes without it', async () => {
    const platform = await platformStarting!;
    const [subgraph] = running;
    const node = processUnder(subgraph.child.pid!, 'dist/main.js');
    expect(node).toBeDefined();
    process.kill(node!, 'SIGTERM');
    // npm start exits with its script's code.
    expect(await subgraph.exited).toBe(0);
    // Both lines, in whichever order they reached the pipe (the logger writes asynchronously).
    expect([subgraph.output().includes('"signal":"SIGTERM","msg":"stopping"'), subgraph.output().includes('"msg":"stopped"')]).toEqual([true, true]);
    expect(await (await fetch(`${realBackends.consulUrl}/v1/health/service/${name}`)).json()).toEqual([]);
    await eventually(async () => {
      const { body } = await postGraphQL(platform.gatewayUrl, `{ ${field}Items { id } }`);
      expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }, 60_000, 250);
  }, 2 * STEP_MS);

  it('runs from source with `npm run dev` on the dev hub of the embedded platform, as its README shows, and that gateway composes it in; Ctrl-C takes it out', async () => {
    const embedded = await embeddedStarting!;
    const [shown] = (await projectCommands(project)).filter((block) => block.includes('TRELLIS_DEVHUB_URL='));
    const port = await freePort();
    const command = shown.trim().replace('TRELLIS_DEVHUB_URL=ws://127.0.0.1:4600', `TRELLIS_DEVHUB_URL=${embedded.devHubUrl}`).replace('PORT=4010', `PORT=${port}`);
    expect(command).toBe(`TRELLIS_DEVHUB_URL=${embedded.devHubUrl} PORT=${port} npm run dev`);
    const dev = spawnShell(command, project, outsideEnv());
    running.push(dev);
    await eventually(async () => {
      if (dev.child.exitCode !== null) throw new Error(`npm run dev exited with ${dev.child.exitCode}:\n${dev.output()}`);
      const { body } = await postGraphQL(embedded.gatewayUrl, `mutation { add${type}Item(title: "from source") { title } }`);
      expect(body).toEqual({ data: { [`add${type}Item`]: { title: 'from source' } } });
    }, 90_000, 250);
    expect(dev.output()).toMatch(/"backends":\{"discovery":"devhub","state":"devhub","cache":"devhub","events":"devhub"\}/);

    // Ctrl-C in its terminal: SIGINT to the whole foreground job (npm, tsx watch, node).
    process.kill(-dev.child.pid!, 'SIGINT');
    await dev.exited;
    expect([dev.output().includes('"signal":"SIGINT","msg":"stopping"'), dev.output().includes('"msg":"stopped"')]).toEqual([true, true]);
    await eventually(async () => {
      const { body } = await postGraphQL(embedded.gatewayUrl, `{ ${field}Items { id } }`);
      expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }, 60_000, 250);
  }, 2 * STEP_MS);
});

/** packKit's tarball moved into `dir`, as `--pack-destination dir` leaves it; its name, as npm pack prints it. */
function packInto(dir: string): string {
  const tarball = packKit();
  renameSync(tarball, path.join(dir, path.basename(tarball)));
  rmSync(path.dirname(tarball), { recursive: true, force: true });
  return `${path.basename(tarball)}\n`;
}
