/**
 * docs/subgraph-contract.md, held to what it says: a subgraph written in Python without the kit
 * (test/fixtures/python-subgraph, Strawberry with Federation 2) joins a gateway on the real Consul
 * by the contract alone. The test runs the doc's own commands (its ```bash blocks) to start the
 * Python subgraph and to query it, and checks what the doc says happens: the gateway plans a query
 * across the Node catalog and the Python reviews, the forwarded token is verified again in Python,
 * a name not in SUBGRAPH_ALLOW is refused by name and never called, and SIGTERM deregisters it and
 * the gateway composes without it.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Subgraph } from '@trellis/kit';
import type { SupergraphSource, SupergraphStatus } from '../../../gateway/supergraph/types';
import { catalogSubgraph } from '../../../subgraphs/catalog';
import { realBackends, uniquePrefix } from '../../support/backends';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { postGraphQL } from '../../support/graphql';
import { freePort } from '../../support/ports';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DOC = readFileSync(path.join(ROOT, 'docs/subgraph-contract.md'), 'utf8');
const [SDL_COMMAND, START_COMMANDS, CONSUL_COMMAND, QUERY_COMMAND] = [...DOC.matchAll(/```bash\n([\s\S]*?)```/g)].map((match) => match[1]);
const CONSUL = realBackends.consulUrl;

/** A doc command for this test's instance: its own name and port, this test's gateway and Consul. */
function asShown(command: string, name: string, port: number, gatewayUrl = ''): string {
  return command
    .replaceAll('SUBGRAPH_NAME=reviews', `SUBGRAPH_NAME=${name}`)
    .replaceAll('reviews-127.0.0.1-4010', `${name}-127.0.0.1-${port}`)
    .replaceAll('4010', String(port))
    .replaceAll('http://127.0.0.1:8500', CONSUL)
    .replaceAll('http://localhost:4000/graphql', gatewayUrl);
}

/** Runs a doc command in bash from the repository root (asynchronously: the gateway it may call runs in this process). */
async function run(command: string): Promise<string> {
  return (await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', command], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })).stdout;
}

interface PythonSubgraph {
  child: ChildProcess;
  name: string;
  port: number;
  /** Every JSON line it printed (its log). */
  lines: Array<Record<string, unknown>>;
  exited: Promise<unknown>;
}

/** Runs the doc's start commands, and resolves once the subgraph prints that Consul has it. */
async function startPython(name: string, env: Record<string, string>): Promise<PythonSubgraph> {
  const port = await freePort();
  const child = spawn('bash', ['-euo', 'pipefail', '-c', asShown(START_COMMANDS, name, port)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const python: PythonSubgraph = { child, name, port, lines: [], exited: new Promise((resolve) => child.once('exit', resolve)) };
  await new Promise<void>((resolve, reject) => {
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines.filter((text) => text.startsWith('{'))) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        python.lines.push(entry);
        if (entry.msg === 'registered') resolve();
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`python subgraph ${name} exited (${signal ?? code}) before it registered`)));
  });
  return python;
}

/** Resolves with the first status, now or at a later composition, that `accepts`. */
function composition(source: SupergraphSource, event: 'served' | 'untrusted', accepts: (status: SupergraphStatus) => boolean): Promise<SupergraphStatus> {
  return new Promise((resolve) => {
    const check = (status: SupergraphStatus) => {
      if (!accepts(status)) return;
      (source as unknown as NodeJS.EventEmitter).off(event, check);
      resolve(status);
    };
    (source as unknown as NodeJS.EventEmitter).on(event, check);
    check(source.status());
  });
}

describe('a Python subgraph that meets docs/subgraph-contract.md', () => {
  const namespace = uniquePrefix('polyglot');
  const reviews = uniquePrefix('reviews');
  const rogue = uniquePrefix('rogue');
  /** Allowed by name, but tagged for another namespace than the gateway's. */
  const elsewhere = uniquePrefix('elsewhere');
  let untagged: PythonSubgraph;
  let identity: TestIdentity;
  let catalog: Subgraph;
  let gateway: InProcessGateway;
  let source: SupergraphSource;
  let python: PythonSubgraph;
  const children: PythonSubgraph[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    // The doc's setup: the pinned venv (test/run.sh has made it; a no-op here then).
    expect((await run('test/stack/python.sh')).trim()).toMatch(/python-subgraph\/bin\/python$/);
    identity = await startTestIdentity();
    env = { CONSUL_HTTP_ADDR: CONSUL, CONSUL_NAMESPACE: namespace, CONSUL_CHECK_INTERVAL: '300ms', ...identity.env };
    catalog = await startSubgraph(catalogSubgraph, env);
    gateway = await startGateway({ ...env, SUBGRAPH_ALLOW: `catalog@127.0.0.1,${reviews}@127.0.0.1,${elsewhere}@127.0.0.1` });
    source = gateway.server.options.source;
    await composition(source, 'served', (status) => status.subgraphs.some((subgraph) => subgraph.name === 'catalog'));
    // Registered before reviews: any composition that has reviews has seen it in Consul too.
    untagged = await startPython(elsewhere, { ...env, CONSUL_NAMESPACE: `${namespace}-other` });
    children.push(untagged);
    python = await startPython(reviews, env);
    children.push(python);
  });

  afterAll(async () => {
    for (const child of children) {
      if (child.child.exitCode === null && child.child.signalCode === null) {
        child.child.kill('SIGTERM');
        await child.exited;
      }
    }
    await gateway?.stop();
    await catalog?.stop();
    await identity?.stop();
  });

  it('registers in Consul what the doc lists: name, tag, graphql_url, schema_revision and an HTTP check on /health/ready', async () => {
    const id = `${reviews}-127.0.0.1-${python.port}`;
    const registered = JSON.parse(await run(asShown(CONSUL_COMMAND, reviews, python.port))) as Record<string, unknown>;
    expect(registered).toMatchObject({
      ID: id,
      Service: reviews,
      Address: '127.0.0.1',
      Port: python.port,
      Tags: [`trellis-subgraph@${namespace}`],
      Meta: { graphql_url: `http://127.0.0.1:${python.port}/graphql`, schema_revision: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
    const checks = (await (await fetch(`${CONSUL}/v1/agent/checks?filter=${encodeURIComponent(`ServiceID == "${id}"`)}`)).json()) as Record<string, { Type: string; Status: string }>;
    expect(Object.values(checks)).toEqual([expect.objectContaining({ Type: 'http', Status: 'passing' })]);
    expect((await fetch(`http://127.0.0.1:${python.port}/health/ready`)).status).toBe(200);
  });

  it("serves the Federation 2 SDL the doc shows from _service { sdl }: Product by its key id, with reviews", async () => {
    const { data } = JSON.parse(await run(asShown(SDL_COMMAND, reviews, python.port))) as { data: { _service: { sdl: string } } };
    expect(data._service.sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.7"');
    expect(data._service.sdl).toMatch(/type Product @key\(fields: "id"\) \{\s+id: ID!\s+reviews: \[Review!\]!/);
  });

  it('is composed in, and the gateway plans one query across the Node catalog and the Python reviews (the doc\'s query, as written)', async () => {
    const status = await composition(source, 'served', (seen) => seen.subgraphs.some((subgraph) => subgraph.name === reviews));
    expect(status.subgraphs.map((subgraph) => subgraph.name).sort()).toEqual(['catalog', reviews].sort());
    expect(status.subgraphs.find((subgraph) => subgraph.name === reviews)?.instances).toEqual([`${reviews}-127.0.0.1-${python.port}`]);
    const answer = JSON.parse(await run(asShown(QUERY_COMMAND, reviews, python.port, `${gateway.url}`))) as unknown;
    expect(answer).toEqual({ data: { product: { name: 'Trellis Mug', reviews: [{ body: 'Holds a whole pot of coffee.' }, { body: 'The handle survived a fall.' }] } } });
  });

  it('leaves alone a service without the gateway\'s tag: not watched, so neither composed, nor refused, nor called', async () => {
    const inConsul = (await (await fetch(`${CONSUL}/v1/agent/service/${elsewhere}-127.0.0.1-${untagged.port}`)).json()) as { Tags: string[] };
    expect(inConsul.Tags).toEqual([`trellis-subgraph@${namespace}-other`]);
    const status = await composition(source, 'served', (seen) => seen.subgraphs.some((subgraph) => subgraph.name === reviews));
    expect(status.subgraphs.map((subgraph) => subgraph.name)).not.toContain(elsewhere);
    expect(status.untrusted.map((entry) => entry.name)).not.toContain(elsewhere);
    expect(untagged.lines.filter((line) => line.msg === 'request')).toEqual([]);
  });

  it('receives the correlation id and the caller\'s token from the gateway, and verifies the token again itself', async () => {
    const correlationId = uniquePrefix('corr');
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const headers = { ...(await identity.bearer('u1')), 'x-correlation-id': correlationId, traceparent };
    const { body } = await postGraphQL(gateway.url, '{ viewer product(id: "p2") { reviews { body } } }', { headers });
    expect(body).toEqual({ data: { viewer: 'u1', product: { reviews: [{ body: 'Warm, and the print did not fade.' }] } } });
    // Two calls: the root field viewer, then _entities for the product's reviews; both carry the ids and the caller.
    const seen = expect.objectContaining({ msg: 'request', user: 'u1', traceparent: expect.stringMatching(new RegExp(`^00-${traceId}-`)) });
    expect(python.lines.filter((line) => line.correlation_id === correlationId)).toEqual([seen, seen]);

    // Reached directly, past the gateway: a token of another issuer, and one with a forged signature, are refused.
    const direct = `http://127.0.0.1:${python.port}/graphql`;
    const otherIssuer = await identity.token('u1', [], 3600, { issuer: 'http://127.0.0.1:1/not-ours' });
    const [header, payload] = (await identity.token('u1')).split('.');
    const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
    for (const token of [otherIssuer, forged]) {
      const refused = await postGraphQL(direct, '{ viewer }', { headers: { authorization: `Bearer ${token}` } });
      expect(refused.status).toBe(401);
      expect(refused.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
    }
    expect((await postGraphQL(direct, '{ viewer }', { headers: await identity.bearer('u2') })).body).toEqual({ data: { viewer: 'u2' } });
  });

  it('refuses, by name, an instance whose name SUBGRAPH_ALLOW does not list: never composed, never called', async () => {
    const stranger = await startPython(rogue, env);
    children.push(stranger);
    const status = await composition(source, 'untrusted', (seen) => seen.untrusted.some((entry) => entry.name === rogue));
    expect(status.untrusted).toEqual([
      { name: rogue, instance: `${rogue}-127.0.0.1-${stranger.port}`, url: `http://127.0.0.1:${stranger.port}/graphql`, reason: `subgraph name "${rogue}" is not in SUBGRAPH_ALLOW` },
    ]);
    expect(status.subgraphs.map((subgraph) => subgraph.name)).not.toContain(rogue);
    // A query through the gateway after the refusal: the stranger still got no request (not even for its SDL).
    expect((await postGraphQL(gateway.url, '{ product(id: "p1") { name reviews { body } } }')).body.errors).toBeUndefined();
    expect(stranger.lines.filter((line) => line.msg === 'request')).toEqual([]);
  });

  it('deregisters on SIGTERM, and the gateway composes the supergraph again without it', async () => {
    const before = source.status().version;
    python.child.kill('SIGTERM');
    await python.exited;
    expect(python.lines.map((line) => line.msg)).toContain('deregistered');
    expect((await fetch(`${CONSUL}/v1/agent/service/${reviews}-127.0.0.1-${python.port}`)).status).toBe(404);
    const status = await composition(source, 'served', (seen) => seen.version > before && !seen.subgraphs.some((subgraph) => subgraph.name === reviews));
    expect(status.subgraphs.map((subgraph) => subgraph.name)).toEqual(['catalog']);
    const { body } = await postGraphQL(gateway.url, '{ product(id: "p1") { name reviews { body } } }');
    expect(body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }) })]);
    expect((await postGraphQL(gateway.url, '{ product(id: "p1") { name } }')).body).toEqual({ data: { product: { name: 'Trellis Mug' } } });
  });
});
