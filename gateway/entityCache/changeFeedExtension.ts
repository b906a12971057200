/** The change feed as a gateway extension: it starts hearing changes when the gateway starts, and stops with it. */
import type { GatewayExtension } from '../extension';
import type { EntityChangeFeed } from './changeFeed';

export function changeFeedExtension(feed: EntityChangeFeed): GatewayExtension {
  return {
    name: 'entityChangeFeed',
    // Started with the gateway, not when assembled: a gateway built and never started joins no group.
    async attach() {
      await feed.start();
    },
    async stop() {
      await feed.stop();
    },
  };
}
