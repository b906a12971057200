/**
 * A gateway feature as a small plugin with typed hooks (auth, limits, metrics, subscriptions),
 * instead of flags threaded through one big function.
 */
import type { Server } from 'node:http';
import type { Express, Request } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from './context';

export interface GatewayExtension {
  name: string;
  /** Routes and middleware, mounted in order before `/graphql`. */
  mount?(app: Express): void;
  /** Apollo Server plugins (request lifecycle hooks). */
  apolloPlugins?: ApolloServerPlugin<GatewayContext>[];
  /** Adds to the context of each GraphQL request; may throw a GraphQLError to refuse it. */
  extendContext?(req: Request, context: GatewayContext): void | Promise<void>;
  /** Called once the HTTP server exists (e.g. to accept WebSocket upgrades). */
  attach?(server: Server): void | Promise<void>;
  /** Runs before the HTTP server closes; in-flight work should finish here. */
  stop?(): Promise<void>;
}
