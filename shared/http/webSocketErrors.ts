/**
 * A client's WebSocket protocol violations are its own, not the server's. `ws` reports a frame past
 * `maxPayload`, a bad opcode or invalid UTF-8 by closing the socket with the code that says why (1009,
 * 1002, 1007) and emitting an `error` (a `WS_ERR_*` code) on it; graphql-ws's `useServer` logs every
 * socket error with `console.error` and a stack trace as an "Internal error". Any client could write
 * to a gateway's or a subgraph's stderr at will. This drops those errors before graphql-ws sees them
 * and passes every other one on. It is code in the kit rather than a patch of graphql-ws because a
 * patch does not reach a team that installs the kit in its own repository.
 *
 * ```ts
 * useServer({ schema }, wss);
 * quietClientProtocolErrors(wss); // after useServer: it wraps the error listeners graphql-ws added
 * ```
 */
import type { EventEmitter } from 'node:events';

/**
 * What this needs of ws's `WebSocketServer`, structurally: the kit's declarations must not name
 * `ws`'s types, which a project installing the kit does not have (no `@types/ws` in its dependencies).
 */
interface SocketServer {
  on(event: 'connection', listener: (socket: EventEmitter) => void): unknown;
}

/** Whether `ws` raised this for a client's frame (its `WS_ERR_*` codes), the socket already closed. */
export function isClientProtocolError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('WS_ERR_');
}

export function quietClientProtocolErrors(wss: SocketServer): void {
  // Runs after the 'connection' listeners registered before it (useServer's), which have by then
  // added their error listeners to the socket.
  wss.on('connection', (socket) => {
    const listeners = socket.rawListeners('error') as Array<(error: Error) => void>;
    socket.removeAllListeners('error');
    socket.on('error', (error) => {
      if (isClientProtocolError(error)) return;
      for (const listener of listeners) listener.call(socket, error);
    });
  });
}
