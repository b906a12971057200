/**
 * Free TCP ports on loopback for the servers tests and benchmarks start.
 *
 * Not the kit's `freePort` (which asks the kernel for port 0): that port comes from Linux's
 * ephemeral range (32768-60999), the same range every outgoing connection takes its local port
 * from. Between the check and the server's bind, a connection made by a parallel test may take it;
 * a Node server binds within a tick, but a Consul agent or a redis-server binds a few hundred ms
 * after its spawn, and exits on EADDRINUSE (a clean-clone CI went red on a private Consul that
 * never listened). These ports lie below that range, where nothing is handed out implicitly, and
 * are leased to this process (portLease.ts) so two workers never pick the same one.
 */
import net from 'node:net';
import { tryLease } from './portLease';

/** Below the ephemeral range and clear of the stack's fixed ports (16379+) and of `npm start`'s replica blocks (14000+). */
const FIRST = 10_000;
const LAST = 13_999;

/** Whether `port` of 127.0.0.1 can be bound now (nothing listens on it). */
export async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port no one listens on, leased to this process for its lifetime (a lease whose process has
 * ended is taken over): each call gives a different port.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST + 1));
    if (tryLease(`port-${port}`) && (await isFree(port))) return port;
  }
  throw new Error(`no free port left between ${FIRST} and ${LAST}`);
}
