/**
 * docs/security.md's Consul ACL policies, as written there, on a Consul with ACLs on (default deny):
 * a subgraph registers with the subgraph policy; a gateway with the gateway policy watches
 * discovery, holds the composer lock, publishes the supergraph to KV and serves it.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ConsulDiscovery } from '@trellis/kit/internal/discovery';
import { DiscoverySupergraphManager } from '../../../gateway/supergraph/discoveryManager';
import { composeOnThisThread } from '../../../gateway/supergraph/composer';
import { privateConsul, type PrivateServer } from '../../support/privateServers';
import { recordingLogger } from '../../support/recordingLogger';
import { eventually } from '../../support/graphql';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SDL = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { me: String }';

/** The HCL block of docs/security.md whose first comment starts with `# <who>`. */
function documentedPolicy(who: string): string {
  const doc = readFileSync(path.join(ROOT, 'docs', 'security.md'), 'utf8');
  const block = [...doc.matchAll(/```hcl\n([\s\S]*?)```/g)].map((match) => match[1]).find((rules) => rules.startsWith(`# ${who}`));
  if (!block) throw new Error(`docs/security.md has no policy for ${who}`);
  return block;
}

describe('the documented Consul ACL policies', () => {
  const management = randomUUID();
  let consul: PrivateServer;
  let health: Server;
  const { logger } = recordingLogger();

  const acl = async (route: string, body: unknown) => {
    const response = await fetch(`${consul.url}/v1/acl/${route}`, { method: 'PUT', headers: { 'x-consul-token': management }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`acl ${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as { SecretID: string };
  };
  const tokenWith = async (who: string) => {
    const name = `${who.replace(/\W/g, '-')}-${randomUUID().slice(0, 8)}`;
    await acl('policy', { Name: name, Rules: documentedPolicy(who) });
    return (await acl('token', { Policies: [{ Name: name }] })).SecretID;
  };

  beforeAll(async () => {
    consul = await privateConsul({ aclToken: management });
    await consul.start();
    health = createServer((_req, res) => res.writeHead(200).end());
    await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => health?.close(resolve));
    await consul?.kill();
  });

  it('let a subgraph register and a gateway compose, hold the lock, publish and serve', async () => {
    const port = (health.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}/graphql`;
    const subgraph = new ConsulDiscovery({ url: consul.url, token: await tokenWith('a subgraph'), logger });
    const gateway = new ConsulDiscovery({ url: consul.url, token: await tokenWith('the gateway'), blockingWait: '2s', logger });
    const manager = new DiscoverySupergraphManager({
      discovery: gateway,
      logger,
      fetchSdl: async (asked) => (asked === url ? SDL : Promise.reject(new Error(`no SDL at ${asked}`))),
      composer: composeOnThisThread,
      publication: gateway.supergraphPublication(),
    });
    try {
      await manager.start();
      await subgraph.register({ id: 'users-1', name: 'users', url, healthUrl: `http://127.0.0.1:${port}/health` });
      const status = await eventually(async () => {
        const current = manager.status();
        expect(current.hash).not.toBeNull();
        return current;
      }, 20_000, 50);
      expect(status.publication).toMatchObject({ composer: true, publishedBy: status.publication!.holder, reachable: true });
      const published = await fetch(`${consul.url}/v1/kv/trellis/supergraph/current?raw`, { headers: { 'x-consul-token': management } });
      expect(((await published.json()) as { hash: string }).hash).toBe(status.hash);
    } finally {
      await manager.stop();
      await subgraph.deregister('users-1').catch(() => undefined);
      await Promise.all([subgraph.close(), gateway.close()]);
    }
  });
});
