/**
 * Keep-alive connection pools to subgraph instances (undici), shared by every subgraph client.
 * With `allowH2`, a subgraph served over TLS that offers HTTP/2 (ALPN) gets it: one connection
 * multiplexes many calls. Cleartext subgraphs (the kit's default) stay on HTTP/1.1 keep-alive.
 */
import { Agent, request } from 'undici';

export interface HttpResponse {
  status: number;
  text: string;
  /** The answer's `Cache-Control` (how long the subgraph says it may be kept: the entity cache reads it). */
  cacheControl?: string;
}

export interface HttpClientOptions {
  connectionsPerOrigin?: number;
  keepAliveMs?: number;
  /** HTTP/2 where a TLS subgraph offers it (SUBGRAPH_HTTP2). */
  allowH2?: boolean;
  /** Certificates to trust besides Node's (for tests; deployments use NODE_EXTRA_CA_CERTS). */
  ca?: string;
}

export class HttpClient {
  private readonly agent: Agent;

  constructor(options: HttpClientOptions = {}) {
    this.agent = new Agent({
      connections: options.connectionsPerOrigin ?? 128,
      keepAliveTimeout: options.keepAliveMs ?? 30_000,
      keepAliveMaxTimeout: 600_000,
      allowH2: options.allowH2 ?? false,
      connect: { timeout: 2000, ...(options.ca ? { ca: options.ca } : {}) },
    });
  }

  async postJson(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<HttpResponse> {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body,
      signal,
      dispatcher: this.agent,
    });
    const cacheControl = response.headers['cache-control'];
    return { status: response.statusCode, text: await response.body.text(), ...(typeof cacheControl === 'string' ? { cacheControl } : {}) };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
