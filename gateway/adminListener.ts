/**
 * The gateway's second listener, for operators only: `/metrics`, `/admin/*` and health with
 * details, on ADMIN_HOST:ADMIN_PORT (loopback by default), optionally behind `ADMIN_TOKEN`. None
 * of it is reachable on the public port.
 */
import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import express, { type Express, type RequestHandler, type Router } from 'express';
import { closeServer, listen, mountHealth } from '@trellis/kit/internal';

export interface AdminListenerOptions {
  host: string;
  port?: number;
  /** When set, each request needs `Authorization: Bearer <token>`. */
  token?: string;
  isReady: () => boolean;
  details: () => Record<string, unknown>;
}

export class AdminListener {
  readonly app: Express = express();
  readonly server: Server = createServer(this.app);
  /**
   * Static files that carry no data (the console's page and script), served without ADMIN_TOKEN
   * so a browser can load the console, which then sends the token with each data request.
   */
  readonly assets: Router = express.Router();
  private bound?: number;

  constructor(private readonly options: AdminListenerOptions) {
    this.app.disable('x-powered-by');
    this.app.use(this.assets);
    if (options.token) this.app.use(requireToken(options.token));
    mountHealth(this.app, options.isReady, options.details);
  }

  /** The admin base URL, e.g. `http://127.0.0.1:4700`. */
  get url(): string {
    if (this.bound === undefined) throw new Error('the admin listener is not started');
    const host = this.options.host === '0.0.0.0' ? '127.0.0.1' : this.options.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.bound}`;
  }

  async start(): Promise<string> {
    this.bound = await listen(this.server, this.options.port ?? 0, this.options.host);
    return this.url;
  }

  async stop(graceMs: number): Promise<void> {
    if (this.bound !== undefined) await closeServer(this.server, graceMs);
  }
}

function requireToken(token: string): RequestHandler {
  const expected = Buffer.from(`Bearer ${token}`);
  return (req, res, next) => {
    const given = Buffer.from(req.header('authorization') ?? '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res.status(401).setHeader('www-authenticate', 'Bearer').json({ error: { code: 'UNAUTHENTICATED', message: 'the admin listener needs Authorization: Bearer <ADMIN_TOKEN>' } });
  };
}
