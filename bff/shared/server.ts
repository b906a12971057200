/** The HTTP server of one BFF: listens, reports ready, and on stop drains requests and closes streams. */
import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from '@trellis/kit';
import type { ServerTimeouts } from '@trellis/kit/bff';
import { closeServer, listen } from '@trellis/kit/bff';

export class BffServer {
  readonly httpServer: Server;
  private serving = false;
  private readonly closers: Array<() => Promise<void>> = [];

  constructor(
    readonly app: Express,
    private readonly options: { name: string; host: string; graceMs: number; logger: Logger; timeouts?: ServerTimeouts },
  ) {
    this.httpServer = createServer(app);
  }

  isReady(): boolean {
    return this.serving;
  }

  /** Runs on stop, before the HTTP server closes (long-lived streams, clients). */
  onStop(close: () => Promise<void>): void {
    this.closers.push(close);
  }

  async start(port: number): Promise<string> {
    const bound = await listen(this.httpServer, port, this.options.host, this.options.timeouts);
    this.serving = true;
    const url = `http://${this.options.host === '0.0.0.0' ? '127.0.0.1' : this.options.host}:${bound}`;
    this.options.logger.info({ url }, `${this.options.name} serving`);
    return url;
  }

  async stop(): Promise<void> {
    this.serving = false;
    for (const close of this.closers) await close();
    await closeServer(this.httpServer, this.options.graceMs);
  }
}
