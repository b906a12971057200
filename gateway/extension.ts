/**
 * A gateway feature as a small plugin with typed hooks (auth, limits, metrics, subscriptions),
 * instead of flags threaded through one big function.
 */
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import type { ApolloGateway } from '@apollo/gateway';
import type { InstanceDirectory } from './supergraph/instances';
import type { GatewayContext, HeaderReader } from './context';

/** What extensions may use of the gateway they plug into. */
export interface GatewayHost {
  readonly gateway: ApolloGateway;
  readonly instances: InstanceDirectory;
  buildContext(header: HeaderReader): Promise<GatewayContext>;
  isReady(): boolean;
}

export interface GatewayExtension {
  name: string;
  /** Routes and middleware, mounted in order before `/graphql`. */
  mount?(app: Express, host: GatewayHost): void;
  /** Apollo Server plugins (request lifecycle hooks). */
  apolloPlugins?: ApolloServerPlugin<GatewayContext>[];
  /**
   * Adds to the context of each GraphQL request (HTTP, WebSocket or SSE alike; `header` reads the
   * request's headers or the WebSocket's connection params); may throw a GraphQLError to refuse it.
   */
  extendContext?(header: HeaderReader, context: GatewayContext): void | Promise<void>;
  /** Called before the HTTP server listens (e.g. to accept WebSocket upgrades). */
  attach?(server: Server, host: GatewayHost): void | Promise<void>;
  /** Runs before the HTTP server closes; in-flight work should finish here. */
  stop?(): Promise<void>;
}
