/**
 * The one place a `consul` package client is built: the agent's URL, the ACL token on every call,
 * TLS verified against the given CA, and a deadline per call. Discovery, the composer lock and the
 * published supergraph all go through a client made here.
 */
import http from 'node:http';
import https from 'node:https';
import { types } from 'node:util';
import Consul from 'consul';

export interface ConsulConnection {
  url: string;
  /** ACL token sent on every call (`X-Consul-Token`). */
  token?: string;
  /** PEM of the CA that signed the agent's certificate, for an https `url`. */
  caCert?: string;
  /** Deadline of one call that is not a blocking query (default 3 s). */
  requestTimeoutMs?: number;
}

/** The package's constructor takes papi's options too (`baseUrl`, `timeout`), which its types leave out. */
type ClientOptions = ConstructorParameters<typeof Consul>[0] & { baseUrl: string };

export function consulClient(connection: ConsulConnection): Consul {
  const base = new URL(connection.url);
  const secure = base.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true, ca: connection.caCert }) : new http.Agent({ keepAlive: true });
  const options: ClientOptions = {
    baseUrl: `${base.origin}${base.pathname.replace(/\/$/, '')}/v1`,
    agent,
    defaults: { token: connection.token, timeout: connection.requestTimeoutMs ?? 3000 } as ClientOptions['defaults'],
  };
  return new Consul(options);
}

/**
 * A call of the package that rejects when it failed. papi tells a failure from a result with
 * `instanceof Error`, which an error made in another realm fails (under jest's vm, every socket
 * and TLS error): papi then resolves with the error. This turns that back into a rejection.
 */
export async function settled<T>(call: Promise<T>): Promise<T> {
  const value = await call;
  if (types.isNativeError(value)) throw value;
  return value;
}
