/**
 * docker-compose.yml sets a placeholder CONSUL_HTTP_TOKEN (production refuses Consul without one),
 * and says its dev agent, which runs without ACLs, ignores it. Checked on the test stack's Consul,
 * started the way compose starts its own (`consul agent -dev`): the kit registers and watches with
 * the placeholder as it would with no token.
 */
import { randomUUID } from 'node:crypto';
import { ConsulDiscovery, type ServiceInstance } from '@trellis/kit/internal/discovery';
import { realBackends, uniquePrefix } from '../../support/backends';
import { composeConfig } from '../../support/compose';

describe("compose's Consul token placeholder", () => {
  it('is accepted by a Consul dev agent (no ACLs): registration and watch work with it', async () => {
    const token = composeConfig().services.users.environment!.CONSUL_HTTP_TOKEN;
    expect(token).toMatch(/^replace-with-/);
    const discovery = new ConsulDiscovery({ url: realBackends.consulUrl, token, namespace: uniquePrefix('compose-token'), blockingWait: '2s' });
    const registration = { id: `t-${randomUUID()}`, name: 'compose-token', url: 'http://127.0.0.1:9/graphql', healthUrl: 'http://127.0.0.1:9/health/ready' };
    try {
      await discovery.register(registration);
      const seen = await new Promise<ServiceInstance[]>((resolve) => void discovery.watch((instances) => instances.length > 0 && resolve(instances)));
      expect(seen.map((instance) => instance.id)).toEqual([registration.id]);
    } finally {
      await discovery.deregister(registration.id);
      await discovery.close();
    }
  });
});
