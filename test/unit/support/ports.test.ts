/**
 * The tests' free ports lie below Linux's ephemeral range, where no outgoing connection takes a
 * local port, and are leased: a port another live process leased is never handed out here.
 */
import net from 'node:net';
import { freePort } from '../../support/ports';
import { tryLease } from '../../support/portLease';

describe('freePort (tests)', () => {
  it('hands out distinct ports between 10000 and 13999 that nothing listens on', async () => {
    const ports = await Promise.all(Array.from({ length: 40 }, () => freePort()));
    expect(new Set(ports).size).toBe(40);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThanOrEqual(13_999);
    }
    // Each one binds.
    for (const port of ports.slice(0, 5)) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('never hands out a port whose lease this process already holds', async () => {
    const held = await freePort();
    expect(tryLease(`port-${held}`)).toBe(false);
  });
});
