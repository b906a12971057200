/**
 * A graphql-ws client that notices a dead peer. A peer that stops answering (a frozen process, a
 * host gone without a FIN, a silent middlebox) leaves a WebSocket open for ever: nothing is sent,
 * so nothing fails. graphql-ws's `keepAlive` sends a protocol ping every interval but, by design,
 * does nothing when no pong comes; this adds the pong timeout of graphql-ws's own recipe
 * (`client.terminate()`, then the socket destroyed), and bounds the two other waits on a silent
 * peer: the HTTP upgrade (ws's `handshakeTimeout`) and `connection_ack` (`connectionAckWaitTimeout`).
 * A terminated connection is an abnormal close: the client retries as configured, and what it
 * iterates fails once retries are spent.
 *
 * ```ts
 * const client = createKeptAliveClient({ url, webSocketImpl: WebSocket }, { pingIntervalMs: 10_000, pongTimeoutMs: 5_000 });
 * ```
 */
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import WebSocket from 'ws';

export interface KeepAliveSettings {
  /** A ping this long after the connection opened and after each pong. */
  pingIntervalMs: number;
  /** No pong, upgrade or connection_ack within this: the peer is dead and the socket terminated. */
  pongTimeoutMs: number;
  /** Told when a peer is given up for dead (for a log line or a metric). */
  onDeadPeer?: () => void;
}

/** `ws`'s WebSocket with a bound on the upgrade: a peer that accepts the TCP connection and never answers fails. */
function webSocketWithHandshakeTimeout(handshakeTimeout: number) {
  return class extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { handshakeTimeout });
    }
  };
}

export function createKeptAliveClient(options: Omit<ClientOptions, 'webSocketImpl' | 'keepAlive'>, settings: KeepAliveSettings): Client {
  const on = options.on ?? {};
  let socket: WebSocket | undefined;
  let pongDue: NodeJS.Timeout | undefined;
  const client: Client = createClient({
    ...options,
    webSocketImpl: webSocketWithHandshakeTimeout(settings.pongTimeoutMs),
    keepAlive: settings.pingIntervalMs,
    connectionAckWaitTimeout: settings.pongTimeoutMs,
    on: {
      ...on,
      opened: (opened) => {
        socket = opened as WebSocket;
        on.opened?.(opened);
      },
      ping: (received, payload) => {
        if (!received) {
          clearTimeout(pongDue);
          pongDue = setTimeout(() => {
            const dead = socket;
            settings.onDeadPeer?.();
            // Fails or retries what the connection carried at once, without the close handshake a dead peer never answers...
            client.terminate();
            // ...and frees the TCP socket, which a close frame would otherwise hold until ws's own 30 s close timeout.
            dead?.terminate();
          }, settings.pongTimeoutMs);
        }
        on.ping?.(received, payload);
      },
      pong: (received, payload) => {
        if (received) clearTimeout(pongDue);
        on.pong?.(received, payload);
      },
      closed: (event) => {
        clearTimeout(pongDue);
        socket = undefined;
        on.closed?.(event);
      },
    },
  });
  return client;
}
