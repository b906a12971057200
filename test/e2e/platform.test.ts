/**
 * The platform started the way `npm start` starts it: the four-subgraph query, a fifth subgraph
 * joining and leaving while the gateway runs, docs/subgraph-authors.md's own subgraph written and
 * started as the page shows, and a subgraph that cannot compose.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fencedBlocks, inlineCommands, readDoc, REPO_ROOT } from '../support/markdown';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { eventually, postGraphQL } from '../support/graphql';
import { platformToken } from '../support/identity';
import { createSubgraph, type Subgraph } from '@trellis/kit';
import { loadConfig } from '@trellis/kit';
import { createLogger } from '@trellis/kit';

const FOUR_SUBGRAPHS = `{ user(id: "u1") { name orders { total status items { quantity product { name inStock } } payment { state } } } }`;

describe('platform (npm start)', () => {
  let platform: RunningPlatform;

  let reader: { authorization: string };

  beforeAll(async () => {
    platform = await startPlatform();
    reader = { authorization: `Bearer ${await platformToken(platform.base, 'u1', ['payments:read'])}` };
  });

  afterAll(async () => {
    expect(await platform.stop()).toBe(0);
  });

  const extraSubgraph = (name: string, typeDefs: string, resolvers: Record<string, unknown>): Subgraph =>
    createSubgraph({
      name,
      typeDefs,
      resolvers: resolvers as never,
      config: loadConfig({ TRELLIS_DEVHUB_URL: platform.devHubUrl, LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '1000' }),
      logger: createLogger({ service: name, level: 'silent' }),
    });

  it('answers a query that crosses users, orders, catalog and payments', async () => {
    const { status, body } = await postGraphQL(platform.gatewayUrl, FOUR_SUBGRAPHS, { headers: reader });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      user: {
        name: 'Ada Lovelace',
        orders: [
          { total: 54, status: 'SHIPPED', items: [{ quantity: 1, product: { name: 'Federation Hoodie', inStock: 12 } }], payment: { state: 'CAPTURED' } },
          {
            total: 29.99,
            status: 'DELIVERED',
            items: [
              { quantity: 2, product: { name: 'Trellis Mug', inStock: 40 } },
              { quantity: 1, product: { name: 'Circuit Breaker Sticker Pack', inStock: 250 } },
            ],
            payment: { state: 'CAPTURED' },
          },
        ],
      },
    });
  });

  it('resolves `me` from the verified token, and refuses it to an anonymous caller', async () => {
    expect((await postGraphQL(platform.gatewayUrl, '{ me { id name } }', { headers: { authorization: `Bearer ${await platformToken(platform.base, 'u2')}` } })).body.data).toEqual({
      me: { id: 'u2', name: 'Grace Hopper' },
    });
    const anonymous = await postGraphQL(platform.gatewayUrl, '{ me { id } }');
    expect(anonymous.body.data).toEqual({ me: null });
    expect(anonymous.body.errors?.[0]).toMatchObject({ path: ['me'], extensions: { code: 'FORBIDDEN' } });
  });

  it('answers a malformed query and an unknown field with a code (400 as graphql-response+json, 200 as application/json), and keeps serving', async () => {
    const strict = { headers: { accept: 'application/graphql-response+json' } };
    const malformed = await postGraphQL(platform.gatewayUrl, '{ user(id: "u1") { name ', strict);
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const legacy = await postGraphQL(platform.gatewayUrl, '{ user(id: "u1") { name ', { headers: { accept: 'application/json' } });
    expect([legacy.status, legacy.body.errors?.[0].extensions?.code]).toEqual([200, 'GRAPHQL_PARSE_FAILED']);
    const unknown = await postGraphQL(platform.gatewayUrl, '{ nope }', strict);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await postGraphQL(platform.gatewayUrl, '{ users { id } }')).body.data).toEqual({
      users: [{ id: 'u1' }, { id: 'u2' }, { id: 'u3' }],
    });
  });

  it('serves a fifth subgraph within 2 s of its start, and drops it within 2 s of its stop', async () => {
    const reviews = extraSubgraph(
      'reviews',
      `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
       type Query { topReviews: [Review!]! }
       type Review { id: ID! body: String! stars: Int! }`,
      { Query: { topReviews: () => [{ id: 'r1', body: 'Sturdy mug', stars: 5 }] } },
    );
    await reviews.start();
    const started = Date.now();
    await eventually(async () => {
      const { body } = await postGraphQL(platform.gatewayUrl, '{ topReviews { body stars } }');
      expect(body.data).toEqual({ topReviews: [{ body: 'Sturdy mug', stars: 5 }] });
    }, 2000);
    expect(Date.now() - started).toBeLessThan(2000);

    await reviews.stop();
    const stopped = Date.now();
    await eventually(async () => {
      const { status, body } = await postGraphQL(platform.gatewayUrl, '{ topReviews { body } }', { headers: { accept: 'application/graphql-response+json' } });
      expect(status).toBe(400);
      expect(body.errors?.[0].message).toMatch(/Cannot query field "topReviews"/);
    }, 2000);
    expect(Date.now() - stopped).toBeLessThan(2000);
    expect((await postGraphQL(platform.gatewayUrl, '{ product(id: "p1") { name } }')).body.data).toEqual({ product: { name: 'Trellis Mug' } });
  });

  it("starts subgraph-authors.md's own subgraph with the page's command; the gateway composes it in, and drops it on SIGTERM", async () => {
    const page = readDoc('docs/subgraph-authors.md');
    const block = fencedBlocks(page).find((candidate) => candidate.language === 'ts' && candidate.body.startsWith('// subgraphs/reviews/main.ts'));
    const command = inlineCommands(page).find((shown) => shown.command.endsWith(' subgraphs/reviews/main.ts'));
    expect({ block: block !== undefined, command: command?.command }).toEqual({
      block: true,
      command: 'node --conditions=trellis-source --import tsx subgraphs/reviews/main.ts',
    });
    // Written where the page says, relative to a folder of its own that sees this repository's
    // node_modules (so `@trellis/kit` resolves as it does here): the page's command runs as it is,
    // and nothing is written into the repository, where other suites read subgraphs/ meanwhile.
    const workdir = mkdtempSync(path.join(tmpdir(), 'trellis-reviews-'));
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(workdir, 'node_modules'));
    const file = path.join(workdir, 'subgraphs/reviews/main.ts');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, block!.body);
    const env: NodeJS.ProcessEnv = { ...process.env, ...platform.backendEnv, LOG_LEVEL: 'warn' };
    for (const name of ['PORT', 'TRELLIS_PORT_BASE', 'CONSUL_HTTP_ADDR', 'REDIS_URL', 'KAFKA_BROKERS']) delete env[name];
    const [, ...args] = command!.command.split(' ');
    const child = spawn(process.execPath, args, { cwd: workdir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const reviewsOf = '{ product(id: "p1") { name reviews { body stars } } }';
    try {
      await eventually(async () => {
        expect(child.exitCode).toBeNull();
        const { body } = await postGraphQL(platform.gatewayUrl, reviewsOf);
        expect(body.data).toEqual({ product: { name: 'Trellis Mug', reviews: [{ body: 'Great p1', stars: 5 }] } });
      }, 60_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${output}`);
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await eventually(async () => {
        const { body } = await postGraphQL(platform.gatewayUrl, reviewsOf);
        expect(body.errors?.[0].message).toMatch(/Cannot query field "reviews"/);
      }, 10_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(workdir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses a subgraph that cannot compose and leaves the schema as it was', async () => {
    const introspect = async () =>
      JSON.stringify((await postGraphQL(platform.gatewayUrl, '{ __schema { types { name fields { name type { name kind } } } } }')).body.data);
    const before = await introspect();
    const clashing = extraSubgraph(
      'pricing',
      `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
       type Query { discount: Float }
       type Product @key(fields: "id") { id: ID! price: String! }`,
      { Query: { discount: () => 0.1 } },
    );
    await clashing.start();
    try {
      // The refusal in the gateway's log is the witness: the gateway has judged the subgraph, so a schema change would already show.
      await eventually(async () => expect(platform.output()).toMatch(/subgraph pricing refused/), 10_000);
      expect(await introspect()).toBe(before);
      const { body } = await postGraphQL(platform.gatewayUrl, FOUR_SUBGRAPHS, { headers: reader });
      expect(body.errors).toBeUndefined();
    } finally {
      await clashing.stop();
    }
  });
});
