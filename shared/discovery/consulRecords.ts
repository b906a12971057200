/**
 * What Consul's HTTP API is sent and answers, translated to and from Trellis's discovery types:
 * pure functions, kept apart from the adapter's network code (consul.ts) so they are unit-tested.
 */
import type { Logger } from '../logging';
import type { ServiceInstance, ServiceRegistration } from './types';

/** One row of `/v1/health/service/<name>`. */
export interface HealthEntry {
  Service: {
    ID: string;
    Service: string;
    Address: string;
    Port: number;
    Tags: string[] | null;
    Meta: Record<string, string> | null;
  };
  Checks: Array<{ Status: string }>;
}

export interface RegistrationSettings {
  /** The tag every instance of this platform carries (and the watch filters on). */
  tag: string;
  checkInterval?: string;
  /** Failed checks in a row before the instance counts as critical (Consul's `FailuresBeforeCritical`); 3 unless set. */
  failuresBeforeCritical?: number;
  deregisterCriticalAfter?: string;
}

/**
 * As Kubernetes' readiness probes (`failureThreshold: 3`): one check that misses its 1 s timeout on a busy host is not
 * a dead instance, and dropping the only instance of a subgraph for it fails every query that needs it. A dead
 * instance meanwhile refuses connections, which the gateway's retry, outlier ejection and breaker handle at once.
 */
export const DEFAULT_FAILURES_BEFORE_CRITICAL = 3;

/** Consul meta keys allow only letters, digits, `_` and `-`. */
const META_KEY = /^[A-Za-z0-9_-]{1,128}$/;

/** The body of `PUT /v1/agent/service/register` for one instance, with its readiness check. */
export function registrationBody(
  registration: ServiceRegistration,
  settings: RegistrationSettings,
): Record<string, unknown> {
  const url = new URL(registration.url);
  const meta: Record<string, string> = { graphql_url: registration.url };
  for (const [key, value] of Object.entries(registration.meta ?? {})) {
    const safeKey = key.replace(/[^A-Za-z0-9_-]/g, '_');
    if (META_KEY.test(safeKey)) meta[safeKey] = value;
  }
  return {
    ID: registration.id,
    Name: registration.name,
    Address: url.hostname,
    Port: portOf(url),
    Tags: [settings.tag],
    Meta: meta,
    Check: {
      CheckID: `${registration.id}:ready`,
      Name: `${registration.name} ready`,
      HTTP: registration.healthUrl,
      Interval: settings.checkInterval ?? '1s',
      Timeout: '1s',
      FailuresBeforeCritical: settings.failuresBeforeCritical ?? DEFAULT_FAILURES_BEFORE_CRITICAL,
      DeregisterCriticalServiceAfter: settings.deregisterCriticalAfter ?? '30s',
      // The kit registers only once the instance serves, so it starts passing.
      Status: 'passing',
    },
  };
}

/** The instance a health entry describes; healthy only when every check passes. */
export function toInstance({ Service: service, Checks: checks }: HealthEntry, logger?: Logger): ServiceInstance {
  const meta = { ...(service.Meta ?? {}) };
  const fromAddress = `http://${service.Address}:${service.Port}${meta.graphqlPath ?? '/graphql'}`;
  let url = fromAddress;
  if (meta.graphql_url) {
    // Meta is free text: its URL is taken only when it points at the address and port Consul checks.
    if (pointsAt(meta.graphql_url, service.Address, service.Port)) url = meta.graphql_url;
    else
      logger?.warn(
        { instance: service.ID, graphqlUrl: meta.graphql_url, address: `${service.Address}:${service.Port}` },
        'graphql_url does not match the service address; using the address',
      );
  }
  return {
    id: service.ID,
    name: service.Service,
    url,
    meta,
    healthy: (checks ?? []).every((check) => check.Status === 'passing'),
  };
}

function pointsAt(url: string, address: string, port: number): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return (
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    parsed.hostname.replace(/^\[|\]$/g, '') === address &&
    portOf(parsed) === port
  );
}

function portOf(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/** Milliseconds in a blocking-query `wait` (`500ms`, `30s`, `5m`); 30 s, Consul's default, when unreadable. */
export function parseWait(wait: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(wait);
  if (!match) return 30_000;
  return Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 's' ? 1000 : 60_000);
}
