/** Keep-alive connection pools to subgraph instances (undici), shared by every subgraph client. */
import { Agent, request } from 'undici';

export interface HttpResponse {
  status: number;
  text: string;
}

export class HttpClient {
  private readonly agent: Agent;

  constructor(options: { connectionsPerOrigin?: number; keepAliveMs?: number } = {}) {
    this.agent = new Agent({
      connections: options.connectionsPerOrigin ?? 128,
      keepAliveTimeout: options.keepAliveMs ?? 30_000,
      keepAliveMaxTimeout: 600_000,
      connect: { timeout: 2000 },
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
    return { status: response.statusCode, text: await response.body.text() };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
