/**
 * Builds a gateway from config: the supergraph source, the data sources and the extensions, in
 * the order their hooks run. `main.ts` and the tests both start gateways through here.
 */
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logging';
import type { Backends } from '../shared/backends';
import { DiscoverySupergraphManager } from './supergraph/discoveryManager';
import type { SupergraphSource } from './supergraph/types';
import type { GatewayExtension } from './extension';
import { GatewayServer } from './server';

export interface AssembleOptions {
  config: Config;
  logger: Logger;
  backends: Backends;
}

export async function assembleGateway({ config, logger, backends }: AssembleOptions): Promise<GatewayServer> {
  const source: SupergraphSource = new DiscoverySupergraphManager({
    discovery: backends.discovery,
    logger,
    sdlTimeoutMs: config.gateway.sdlTimeoutMs,
  });
  await (source as DiscoverySupergraphManager).start();
  const extensions: GatewayExtension[] = [];
  return new GatewayServer({ config, logger, source, extensions });
}
