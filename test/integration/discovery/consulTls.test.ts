/**
 * CONSUL_CACERT: over https, the Consul client verifies the agent against the given CA. With it,
 * registration, the watch and the composer lock work; without it (a CA the system does not trust)
 * the same calls are refused, so a forged agent cannot answer. Real agent, certificates made with
 * `consul tls`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { BackendUnavailableError } from '@trellis/kit';
import { ConsulDiscovery, type ServiceInstance } from '@trellis/kit/internal/discovery';
import { privateConsul, type PrivateServer } from '../../support/privateServers';

const run = promisify(execFile);
const CONSUL = path.join(process.env.TRELLIS_STACK_HOME || path.join(os.homedir(), '.cache', 'trellis-stack'), 'bin', 'consul');

describe('Consul over https with CONSUL_CACERT', () => {
  let consul: PrivateServer & { httpsUrl?: string };
  let dir: string;
  let caCert: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-consul-tls-'));
    await run(CONSUL, ['tls', 'ca', 'create'], { cwd: dir });
    await run(CONSUL, ['tls', 'cert', 'create', '-server', '-dc', 'dc1'], { cwd: dir });
    const file = (name: string) => path.join(dir, name);
    consul = await privateConsul({ tls: { caFile: file('consul-agent-ca.pem'), certFile: file('dc1-server-consul-0.pem'), keyFile: file('dc1-server-consul-0-key.pem') } });
    await consul.start();
    caCert = readFileSync(file('consul-agent-ca.pem'), 'utf8');
  });
  afterAll(async () => {
    await consul?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const registration = () => ({ id: `t-${randomUUID()}`, name: 'tls-check', url: 'http://127.0.0.1:9/graphql', healthUrl: 'http://127.0.0.1:9/health/ready' });

  it('registers, watches and campaigns for the composer lock when the agent is verified against the CA', async () => {
    const discovery = new ConsulDiscovery({ url: consul.httpsUrl!, caCert, blockingWait: '2s' });
    const mine = registration();
    try {
      await discovery.register(mine);
      const seen = await new Promise<ServiceInstance[]>((resolve) => void discovery.watch((instances) => instances.length > 0 && resolve(instances)));
      expect(seen.map((instance) => instance.id)).toEqual([mine.id]);
      const leading = await new Promise<boolean>((resolve) => void discovery.supergraphPublication().campaign('tls-gateway', resolve));
      expect(leading).toBe(true);
    } finally {
      await discovery.deregister(mine.id);
      await discovery.close();
    }
  });

  it('refuses an agent whose certificate the given CA did not sign', async () => {
    const discovery = new ConsulDiscovery({ url: consul.httpsUrl!, blockingWait: '2s' });
    try {
      const refused = discovery.register(registration());
      await expect(refused).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(refused).rejects.toThrow(/certificate/);
    } finally {
      await discovery.close();
    }
  });
});
