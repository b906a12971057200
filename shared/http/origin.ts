/** Which browser origins may call a Trellis service (the gateway's CORS, the web BFF's WebSockets). */

export interface CorsPolicy {
  allowedOrigins: string[];
  /** Any http(s)://localhost, 127.0.0.1 or [::1] origin, on any port (development). */
  allowLocalhost: boolean;
}

const LOCALHOST = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

export function isOriginAllowed(origin: string, policy: CorsPolicy): boolean {
  return policy.allowedOrigins.includes(origin) || (policy.allowLocalhost && LOCALHOST.test(origin));
}
