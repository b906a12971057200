/**
 * The express base every BFF is built on: correlation id in and out, JSON bodies with a size limit,
 * `/health/live`, `/health/ready`, `/metrics` and request metrics. Routes go between
 * `createBffApp` and `finishBffApp` (404 and the JSON error handler).
 */
import express, { type Express } from 'express';
import { Histogram } from 'prom-client';
import { CORRELATION_ID_HEADER, correlationIdFrom, type Logger, type Registry } from '@trellis/kit';
import { mountHealth } from '@trellis/kit/bff';
import { mountMetrics } from '@trellis/kit/bff';
import { traceHttpRequests } from '@trellis/kit/bff';
import { errorHandler, unknownRoute } from './errors';

export interface BffAppOptions {
  app: string;
  logger: Logger;
  registry: Registry;
  isReady: () => boolean;
  /** Largest JSON body accepted (express size syntax). */
  bodyLimit?: string;
}

export function createBffApp(options: BffAppOptions): Express {
  const { registry } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // ETags are the mobile BFF's own, on the bodies it chooses
  const duration = new Histogram({
    name: 'trellis_bff_request_duration_seconds',
    help: 'BFF request duration',
    labelNames: ['app', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.use((req, res, next) => {
    const correlationId = correlationIdFrom(req.header(CORRELATION_ID_HEADER));
    res.locals.correlationId = correlationId;
    res.setHeader(CORRELATION_ID_HEADER, correlationId);
    const end = duration.startTimer({ app: options.app });
    res.on('finish', () => end({ route: (req.route as { path?: string } | undefined)?.path ?? 'unmatched', status: String(res.statusCode) }));
    next();
  });
  mountHealth(app, options.isReady, () => ({ service: `${options.app}-bff` }));
  mountMetrics(app, registry);
  app.use(express.json({ limit: options.bodyLimit ?? '32kb' }));
  // After the body parser, so the page's span stays active through its handler and gateway calls.
  app.use(traceHttpRequests());
  return app;
}

export function finishBffApp(app: Express, logger: Logger): void {
  app.use(unknownRoute);
  app.use(errorHandler(logger));
}
