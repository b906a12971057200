/**
 * What the public endpoint lets in and gives away: a CORS allow-list (CORS_ORIGINS), and in
 * production masked internal errors. CSRF prevention is Apollo Server's own (`csrfPrevention`,
 * set explicitly in server.ts); introspection and stack traces are off in production there too.
 *
 * ```ts
 * const extension = httpSecurity({ cors: config.cors, isProduction: config.isProduction });
 * ```
 */
import type { GatewayExtension } from '../extension';
import { corsMiddleware, type CorsPolicy } from './cors';
import { maskInternalErrors } from './maskErrors';

export { isOriginAllowed, type CorsPolicy } from './cors';
export { maskInternalErrors } from './maskErrors';

export function httpSecurity(options: { cors: CorsPolicy; isProduction: boolean }): GatewayExtension {
  return {
    name: 'http-security',
    mount: (app) => app.use(corsMiddleware(options.cors)),
    ...(options.isProduction ? { formatError: maskInternalErrors } : {}),
  };
}
