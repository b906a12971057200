import type { Config, ProcessProfile } from '@trellis/kit';
import { SUBGRAPH_PROFILE } from '@trellis/kit/internal';
import { gatewayProfile } from '../../gateway/processProfile';
import { BFF_PROFILE } from '../../bff/shared/processProfile';

/** The processes `npm start` runs, in start order, with their ports relative to TRELLIS_PORT_BASE. */
export interface ServiceSpec {
  name: string;
  /** Entry point without extension, relative to the root (`.ts` from source, `.js` under dist/). */
  entry: string;
  /** Offset from the base port (gateway = base). */
  portOffset: number;
  /** Path that answers 200 once the service can take traffic. */
  readyPath: string;
  /** What the launcher prints for it once ready. */
  describe: (url: string) => string;
  /** Extra environment for this process. */
  env?: Record<string, string>;
  /** What it runs, for the production start checks (its main passes the same to runMain). */
  profile: (config: Config) => ProcessProfile;
}

export const SUBGRAPHS: ServiceSpec[] = [
  { name: 'users', entry: 'subgraphs/users/main', portOffset: 1 },
  { name: 'catalog', entry: 'subgraphs/catalog/main', portOffset: 2 },
  { name: 'orders', entry: 'subgraphs/orders/main', portOffset: 3 },
  { name: 'payments', entry: 'subgraphs/payments/main', portOffset: 4 },
  { name: 'sagas', entry: 'subgraphs/sagas/main', portOffset: 5 },
].map((spec) => ({ ...spec, readyPath: '/health/ready', describe: (url: string) => `${url}/graphql`, profile: () => SUBGRAPH_PROFILE }));

export const GATEWAY: ServiceSpec = {
  name: 'gateway',
  entry: 'gateway/main',
  portOffset: 0,
  readyPath: '/health/ready',
  describe: (url) => `${url}/graphql`,
  // Run by the image or the launcher, the gateway's only supergraph source is SUPERGRAPH_PATH or discovery.
  profile: (config) => gatewayProfile(config),
};

/** The dev identity provider's port, relative to the base (only on the embedded platform). */
export const IDENTITY_PORT_OFFSET = 400;

/** Started once the gateway serves (they call it). */
export const EDGE: ServiceSpec[] = [
  { name: 'web-bff', entry: 'bff/web/main', portOffset: 100, readyPath: '/health/ready', describe: (url) => `${url}/ (storefront), ${url}/api/pages/home (web BFF)`, profile: () => BFF_PROFILE },
  { name: 'mobile-bff', entry: 'bff/mobile/main', portOffset: 200, readyPath: '/health/ready', describe: (url) => `${url}/v1/products (mobile BFF)`, profile: () => BFF_PROFILE },
];

/** The dev identity provider's process (scripts/identity.ts) connects nothing, and is what production refuses. */
export const IDENTITY_PROFILE: ProcessProfile = { backends: [], devIdentity: true };

/** Every service one image can run (`scripts/service.ts`): the platform's processes and the dev identity provider. */
export const SERVICES: Array<Pick<ServiceSpec, 'name' | 'entry' | 'profile'>> = [...SUBGRAPHS, GATEWAY, ...EDGE, { name: 'identity', entry: 'scripts/identity', profile: () => IDENTITY_PROFILE }];
