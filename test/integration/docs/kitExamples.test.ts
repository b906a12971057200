/**
 * The example of each page of docs/kit/, run as a reader would: copied out of the page into a
 * project outside the repository whose `@trellis/kit` imports resolve to the kit's entry points,
 * typechecked with tsc, then run with tsx. The subgraph answers its queries, the saga participant
 * applies real commands from Kafka once each on Redis, the test file passes under node:test, the BFF
 * serves its route, health and metrics; each server stops on SIGTERM.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connectBackends, type Backends } from '@trellis/kit/internal/backends';
import { loadConfig } from '@trellis/kit/internal/config';
import { createLogger } from '@trellis/kit/internal/logging';
import { SAGA_TOPICS, type SagaCommand, type SagaReply } from '@trellis/kit/saga';
import { realBackends, uniquePrefix } from '../../support/backends';
import { eventually, postGraphQL } from '../../support/graphql';
import { kitEntryPoints } from '../../support/kitEntryPoints';
import { fencedBlocks, readDoc, REPO_ROOT } from '../../support/markdown';
import { freePort } from '../../support/ports';

const FILES: Record<string, string> = {
  'docs/kit/kit.md': 'subgraph.ts',
  'docs/kit/saga.md': 'participant.ts',
  'docs/kit/testing.md': 'hello.test.ts',
  'docs/kit/bff.md': 'bff.ts',
};

/** The first TypeScript block of a page's "## Example" section. */
function example(page: string): string {
  const text = readDoc(page);
  const block = fencedBlocks(text.slice(text.indexOf('\n## Example'))).find((candidate) => candidate.language === 'ts');
  if (!block) throw new Error(`${page} shows no example`);
  return block.body;
}

interface RunningExample {
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

describe('the examples of docs/kit/, run as a reader runs them', () => {
  let project: string;
  const running: RunningExample[] = [];

  beforeAll(() => {
    project = mkdtempSync(path.join(tmpdir(), 'trellis-kit-examples-'));
    // The reader's project: the kit's entry points where its imports say, the kit's dependencies installed.
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(project, 'node_modules'), 'dir');
    const paths = Object.fromEntries(kitEntryPoints().map((entry) => [entry.specifier, [entry.source]]));
    const compilerOptions = {
      target: 'ES2022',
      // As the repository compiles the kit's sources: node20 lets CommonJS import the ESM-only
      // @platformatic/kafka (Node 24 loads it with require). A project on the packaged kit reads its
      // declarations instead (test/e2e/kitPackage.test.ts, node16).
      module: 'node20',
      moduleResolution: 'node16',
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
      paths,
    };
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions, files: Object.values(FILES) }, null, 2),
    );
    for (const [page, file] of Object.entries(FILES)) writeFileSync(path.join(project, file), example(page));
  });
  afterAll(async () => {
    for (const example of running) if (example.child.exitCode === null) example.child.kill('SIGKILL');
    rmSync(project, { recursive: true, force: true });
  });

  function start(file: string, env: Record<string, string>): RunningExample {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: project,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const example = { child, output: () => output, stop: async () => (child.kill('SIGTERM'), exited) };
    running.push(example);
    return example;
  }

  async function ready(port: number, example: RunningExample): Promise<void> {
    await eventually(
      async () => {
        if (example.child.exitCode !== null)
          throw new Error(`exited with ${example.child.exitCode}:\n${example.output()}`);
        expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
      },
      60_000,
      200,
    );
  }

  it('typechecks every example against the kit', async () => {
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const { stdout } = await promisify(execFile)(process.execPath, [tsc, '-p', project], {
      cwd: project,
      encoding: 'utf8',
    }).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    expect(stdout).toBe('');
  });

  it('kit.md: the subgraph answers its fields and its entities, refuses with NOT_FOUND, and stops on SIGTERM', async () => {
    const port = await freePort();
    const subgraph = start(FILES['docs/kit/kit.md'], { PORT: String(port) });
    await ready(port, subgraph);
    const url = `http://127.0.0.1:${port}/graphql`;
    expect(
      (
        await postGraphQL(
          url,
          '{ _entities(representations: [{ __typename: "Product", id: "p1" }]) { ... on Product { reviews { body stars } } } }',
        )
      ).body,
    ).toEqual({
      data: { _entities: [{ reviews: [{ body: 'Holds a whole pot of coffee.', stars: 5 }] }] },
    });
    const missing = await postGraphQL(url, '{ review(productId: "p1", index: 3) { body } }');
    expect(missing.body.errors?.[0]).toMatchObject({
      message: 'no review 3 of product p1',
      extensions: { code: 'NOT_FOUND' },
    });
    expect(await subgraph.stop()).toBe(0);
  });

  describe('saga.md: the participant on real Redis and Kafka', () => {
    const prefix = uniquePrefix('kit-saga-example');
    const env = {
      REDIS_URL: realBackends.redisUrl,
      KAFKA_BROKERS: realBackends.kafkaBrokers.join(','),
      REDIS_KEY_PREFIX: `${prefix}:`,
      KAFKA_TOPIC_PREFIX: `${prefix}.`,
    };
    let backends: Backends;
    let participant: RunningExample;
    let port: number;
    const replies: SagaReply[] = [];

    beforeAll(async () => {
      const config = loadConfig({ ...env, LOG_LEVEL: 'silent' });
      backends = await connectBackends(config, createLogger({ service: 'test', level: 'silent' }), {
        uses: ['state', 'events'],
      });
      await backends.events.ensureTopics([SAGA_TOPICS.replies, SAGA_TOPICS.commands('stock')]);
      await backends.events.subscribe({
        groupId: `${prefix}-replies`,
        topics: [SAGA_TOPICS.replies],
        fromBeginning: true,
        handler: async (message) => void replies.push(JSON.parse(message.value) as SagaReply),
      });
      port = await freePort();
      participant = start(FILES['docs/kit/saga.md'], { ...env, PORT: String(port) });
      await ready(port, participant);
    });
    afterAll(async () => {
      await backends?.close();
    });

    const send = (sagaId: string, name: 'reserveStock' | 'releaseStock', quantity: number) => {
      const command: SagaCommand = {
        sagaId,
        saga: 'order',
        step: 'reserve',
        stepIndex: 0,
        action: name === 'reserveStock' ? 'command' : 'compensation',
        name,
        attempt: 1,
        payload: { productId: 'p1', quantity },
      };
      return backends.events.publish(SAGA_TOPICS.commands('stock'), { key: sagaId, value: JSON.stringify(command) });
    };
    const stock = async () =>
      (await postGraphQL<{ stock: number }>(`http://127.0.0.1:${port}/graphql`, '{ stock(productId: "p1") }')).body.data
        ?.stock;
    const repliesTo = (sagaId: string) => replies.filter((reply) => reply.sagaId === sagaId);

    it('reserves once however often the command comes, refuses more than is left, and releases on compensation; then stops on SIGTERM', async () => {
      expect(await stock()).toBe(40);
      await send('s1', 'reserveStock', 2);
      await send('s1', 'reserveStock', 2);
      await eventually(
        async () =>
          expect(repliesTo('s1')).toEqual([
            expect.objectContaining({ outcome: 'success', result: { reserved: 2 } }),
            expect.objectContaining({ outcome: 'success', result: { reserved: 2 } }),
          ]),
        30_000,
      );
      expect(await stock()).toBe(38);

      await send('s2', 'reserveStock', 100);
      await eventually(
        async () =>
          expect(repliesTo('s2')).toEqual([
            expect.objectContaining({ outcome: 'failure', error: 'only 38 of p1 left, 100 asked' }),
          ]),
        30_000,
      );

      await send('s1', 'releaseStock', 2);
      await eventually(
        async () =>
          expect(repliesTo('s1')).toContainEqual(
            expect.objectContaining({ action: 'compensation', outcome: 'success', result: { released: 2 } }),
          ),
        30_000,
      );
      expect(await stock()).toBe(40);
      expect(await participant.stop()).toBe(0);
    });
  });

  it('testing.md: the test passes under node:test', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=tap', FILES['docs/kit/testing.md']],
      {
        cwd: project,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
      },
    );
    expect(stdout).toMatch(/^# pass 1$/m);
    expect(stdout).toMatch(/^# fail 0$/m);
  });

  it('bff.md: the BFF serves its route, health and metrics, and stops on SIGTERM logging "stopped"', async () => {
    const port = await freePort();
    const bff = start(FILES['docs/kit/bff.md'], { PORT: String(port) });
    await ready(port, bff);
    expect(await (await fetch(`http://127.0.0.1:${port}/api/hello`)).json()).toEqual({ hello: 'world' });
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('trellis_process_');
    expect(await bff.stop()).toBe(0);
    expect(bff.output()).toContain('"msg":"stopped"');
  });
});
