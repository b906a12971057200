/**
 * The change feed as a gateway extension, from config: with the entity cache on (or in shadow), the
 * gateway hears every announced change from when it starts to when it stops; off, no feed runs.
 */
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Config, Logger } from '@trellis/kit';
import type { EventBus } from '@trellis/kit/internal/events';
import type { GatewayExtension } from '../extension';
import { EntityChangeFeed, type ChangeSink } from './changeFeed';

export interface ChangeFeedWiring {
  config: Config;
  logger: Logger;
  events: EventBus;
  cache: ChangeSink;
  registry: Registry;
}

export function changeFeedExtensions({ config, logger, events, cache, registry }: ChangeFeedWiring): GatewayExtension[] {
  if (config.entityCache.mode === 'off') return [];
  // Its own consumer group per gateway process: each hears every change (members of one group would share them out).
  const gatewayId = randomUUID().slice(0, 13);
  const feed = new EntityChangeFeed({ events, sink: cache, logger, registry, gatewayId, ...config.entityChanges });
  return [
    {
      name: 'entityChangeFeed',
      // Started with the gateway, not when assembled: a gateway built and never started joins no group.
      async attach() {
        await feed.start();
      },
      async stop() {
        await feed.stop();
      },
    },
  ];
}
