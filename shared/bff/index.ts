/**
 * `@trellis/kit/bff`: what a Backend-for-Frontend author needs beside `@trellis/kit`: serving HTTP
 * (listen, drain, health, metrics, request tracing, CORS) and browser code bundled from the repo.
 */
export { listen, closeServer, mountHealth, isOriginAllowed, type CorsPolicy } from '../http';
export { BrowserBundle } from '../http/browserBundle';
export { mountMetrics, singleMetric } from '../metrics';
export { traceHttpRequests } from '../telemetry';
export type { ServerTimeouts } from '../config';
