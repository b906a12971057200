/** Starting and stopping an HTTP server with promises, and the URL it is reachable at. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerTimeouts } from '../config';

/** Listens on host:port (port 0 picks a free one) and resolves with the bound port; `timeouts` from config.http. */
export function listen(server: Server, port: number, host: string, timeouts?: ServerTimeouts): Promise<number> {
  if (timeouts) {
    server.keepAliveTimeout = timeouts.keepAliveMs;
    server.headersTimeout = timeouts.headersMs;
    server.requestTimeout = timeouts.requestMs;
  }
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting, waits up to `graceMs` for open requests, then drops what is left. */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
