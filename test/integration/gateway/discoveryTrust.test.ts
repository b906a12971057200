/**
 * Discovery you can trust, on a real Consul with ACLs on (default deny): the ACL token goes on
 * every call, `Meta.graphql_url` is not taken when it points away from the checked address, and a
 * rogue service registered with the right tag (another name, or the right name on another host)
 * is refused by name, never composed, and never receives a request or a caller's token.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ConsulDiscovery, SUBGRAPH_TAG, type ServiceInstance } from '@trellis/kit/internal/discovery';
import type { Subgraph } from '@trellis/kit';
import { usersSubgraph } from '../../../subgraphs/users';
import { privateConsul, type PrivateServer } from '../../support/privateServers';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { eventually, postGraphQL } from '../../support/graphql';

const ROGUE_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@override"])
  type User @key(fields: "id") { id: ID! name: String! @override(from: "users") }
`;

/** A service that would take `User.name` over, recording every GraphQL request it gets. */
async function startRogue(host: string): Promise<{ server: Server; url: string; requests: IncomingMessage['headers'][] }> {
  const requests: IncomingMessage['headers'][] = [];
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/health')) return void res.end('ok');
    requests.push(req.headers);
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ data: { _service: { sdl: ROGUE_SDL }, _entities: [{ name: 'pwned' }] } }));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://${host}:${port}/graphql`, requests };
}

describe('discovery trust on Consul with ACLs', () => {
  const token = randomUUID();
  let consul: PrivateServer;
  let identity: TestIdentity;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    consul = await privateConsul({ aclToken: token });
    await consul.start();
    identity = await startTestIdentity();
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await identity?.stop();
    await consul?.kill();
  });

  const register = (body: unknown, withToken = true) =>
    fetch(`${consul.url}/v1/agent/service/register`, { method: 'PUT', headers: withToken ? { 'x-consul-token': token } : {}, body: JSON.stringify(body) });

  it('sends the ACL token on every call: without it Consul refuses to register, with it registration and watch work', async () => {
    const registration = { id: `t-${randomUUID()}`, name: 'acl-check', url: 'http://127.0.0.1:9/graphql', healthUrl: 'http://127.0.0.1:9/health/ready' };
    const anonymous = new ConsulDiscovery({ url: consul.url });
    await expect(anonymous.register(registration)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringMatching(/403|Permission denied/i) });
    await anonymous.close();

    const trusted = new ConsulDiscovery({ url: consul.url, token, blockingWait: '2s' });
    closers.push(() => trusted.close());
    await trusted.register(registration);
    const seen = await new Promise<ServiceInstance[]>((resolve) => void trusted.watch((instances) => instances.length > 0 && resolve(instances)));
    expect(seen.map((instance) => instance.id)).toEqual([registration.id]);
    await trusted.deregister(registration.id);
  });

  it('takes Meta.graphql_url only when it points at the address and port Consul checks', async () => {
    const id = `t-${randomUUID()}`;
    const response = await register({ ID: id, Name: 'meta-check', Address: '127.0.0.1', Port: 4999, Tags: [SUBGRAPH_TAG], Meta: { graphql_url: 'http://evil.example:80/graphql' } });
    expect(response.status).toBe(200);
    const discovery = new ConsulDiscovery({ url: consul.url, token, blockingWait: '2s' });
    closers.push(() => discovery.close());
    const seen = await new Promise<ServiceInstance[]>((resolve) => void discovery.watch((instances) => instances.some((i) => i.id === id) && resolve(instances)));
    expect(seen.find((instance) => instance.id === id)?.url).toBe('http://127.0.0.1:4999/graphql');
  });

  it('composes only allowed names on allowed hosts; a rogue is refused by name and never sees a request or a token', async () => {
    const env = { CONSUL_HTTP_ADDR: consul.url, CONSUL_HTTP_TOKEN: token, CONSUL_NAMESPACE: 'trust', CONSUL_CHECK_INTERVAL: '300ms', ...identity.env };
    const users: Subgraph = await startSubgraph(usersSubgraph, env);
    closers.push(() => users.stop());
    // Another name on the allowed host, and the allowed name on another loopback address.
    const otherName = await startRogue('127.0.0.1');
    const otherHost = await startRogue('127.0.0.2');
    closers.push(async () => otherName.server.close(), async () => otherHost.server.close());
    for (const [rogue, name] of [[otherName, 'rogue'], [otherHost, 'users']] as const) {
      const url = new URL(rogue.url);
      const registered = await register({
        ID: `rogue-${name}-${url.hostname}`,
        Name: name,
        Address: url.hostname,
        Port: Number(url.port),
        Tags: [`${SUBGRAPH_TAG}@trust`],
        Meta: { graphql_url: rogue.url, subgraph: name },
        Check: { HTTP: `http://${url.host}/health/ready`, Interval: '300ms', Status: 'passing' },
      });
      expect(registered.status).toBe(200);
    }

    const gateway: InProcessGateway = await startGateway({ ...env, SUBGRAPH_ALLOW: 'users@127.0.0.1' });
    closers.push(() => gateway.stop());
    const status = () => gateway.server.options.source.status();
    await eventually(async () => expect(status().untrusted.map((u) => u.instance).sort()).toEqual(['rogue-rogue-127.0.0.1', 'rogue-users-127.0.0.2']), 15_000);
    expect(status().untrusted).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'rogue', reason: 'subgraph name "rogue" is not in SUBGRAPH_ALLOW' }),
        expect.objectContaining({ name: 'users', reason: 'host 127.0.0.2 is not allowed for subgraph "users" in SUBGRAPH_ALLOW' }),
      ]),
    );

    const headers = await identity.bearer('u1', ['users:email']);
    await eventually(async () => expect((await postGraphQL(gateway.url, '{ user(id: "u1") { name } }', { headers })).body.data).toEqual({ user: { name: 'Ada Lovelace' } }), 15_000);
    for (let i = 0; i < 10; i++) {
      const { body } = await postGraphQL(gateway.url, '{ user(id: "u1") { name email } users { name } }', { headers });
      expect(JSON.stringify(body)).not.toContain('pwned');
    }
    expect(status().subgraphs.map((subgraph) => subgraph.name)).toEqual(['users']);
    expect(status().subgraphs[0].instances).toEqual([expect.stringMatching(/^users-127\.0\.0\.1-/)]);
    expect(otherName.requests).toEqual([]);
    expect(otherHost.requests).toEqual([]);
  });
});
