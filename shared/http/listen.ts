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
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, host, port));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Says which address could not be taken and why, keeping the errno code: Node's own message
 * ("listen EADDRINUSE: address already in use 127.0.0.1:4000") leaves a reader to decode it.
 */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const why =
    error.code === 'EADDRINUSE'
      ? 'the port is already in use (another process, or another Trellis, holds it)'
      : error.code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : error.code === 'EADDRNOTAVAIL'
          ? 'the address is not one of this machine\'s'
          : error.message;
  return Object.assign(new Error(`cannot listen on ${host}:${port}: ${why}`, { cause: error }), { code: error.code });
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
