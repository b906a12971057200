/**
 * A gateway feature as a small plugin with typed hooks (auth, limits, metrics, subscriptions),
 * instead of flags threaded through one big function.
 */
import type { Server } from 'node:http';
import type { Express, RequestHandler, Router } from 'express';
import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, ExecutionResult, GraphQLFormattedError, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import type { ApolloGateway } from '@apollo/gateway';
import type { MultipartSpec } from '@trellis/kit/internal';
import type { InstanceDirectory } from './supergraph/instances';
import type { GatewayContext, HeaderReader, RequestOrigin } from './context';
import type { PersistableRequest, PersistedDocuments, ResolvedDocument } from './persisted/documents';

/** What extensions may use of the gateway they plug into. */
export interface GatewayHost {
  readonly gateway: ApolloGateway;
  readonly instances: InstanceDirectory;
  buildContext(header: HeaderReader, origin?: RequestOrigin): Promise<GatewayContext>;
  /** The headers a call to `subgraph` carries for this request (HEADER_RULES, plus the correlation id). */
  subgraphHeaders(subgraph: string, context: GatewayContext): Record<string, string>;
  /** Runs every extension's `checkOperation` in order: the document to plan and how to finish each result (throws to refuse). */
  checkOperation(check: OperationCheck): CheckedOperation;
  isReady(): boolean;
  /**
   * The document a WebSocket or SSE request runs: its query, or the persisted one its hash names
   * (throws a GraphQLError); a query sent with its hash comes with `register`, for after the checks.
   */
  resolveDocument(request: PersistableRequest): Promise<ResolvedDocument>;
  /** Every extension's `admitOperation` in order, for one more operation on a connection (throws a GraphQLError to refuse it). */
  admitOperation(context: GatewayContext): Promise<void>;
  /** Every extension's `formatError` in order: how an error reaches a client, on any transport. */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
}

/**
 * The few Apollo Server options an extension may set. Each may be set by one extension only; a
 * second one stops start-up, so two extensions never silently fight over the same option.
 */
export type ApolloOptionsContribution = Partial<Pick<ApolloServerOptions<GatewayContext>, 'parseOptions' | 'allowBatchedHttpRequests' | 'persistedQueries'>>;

/** A parsed, validated operation about to be planned, on any transport (HTTP, WebSocket, SSE). */
export interface OperationCheck {
  /** The document's text as the client sent it. */
  source: string;
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables?: Record<string, unknown>;
  context: GatewayContext;
}

/** What a check decided: run this document instead, and/or amend each result before it is sent. */
export interface OperationVerdict {
  document?: DocumentNode;
  /** sha256 of the printed `document`, when the extension has it at hand (the plan cache's key). */
  queryHash?: string;
  finish?: (result: ExecutionResult) => ExecutionResult;
}

/** Every extension's verdict in one: the document to plan (its hash when it was rewritten and known) and how to finish each result. */
export type CheckedOperation = Required<Pick<OperationVerdict, 'document' | 'finish'>> & Pick<OperationVerdict, 'queryHash'>;

export interface GatewayExtension {
  name: string;
  /** Routes and middleware, mounted in order before `/graphql`. */
  mount?(app: Express, host: GatewayHost): void;
  /** Routes on the admin listener (ADMIN_PORT, loopback by default), never on the public port. */
  mountAdmin?(app: Express, host: GatewayHost): void;
  /** Static files on the admin listener that carry no data, served without ADMIN_TOKEN (the console's page and script). */
  mountAdminAssets?(router: Router, host: GatewayHost): void;
  /** Apollo Server plugins (request lifecycle hooks) for what is not a check (metrics, traces, landing page). */
  apolloPlugins?: ApolloServerPlugin<GatewayContext>[];
  apolloOptions?: ApolloOptionsContribution;
  /** The store behind persisted-query hashes, for the transports Apollo Server does not serve (one extension only). */
  persistedDocuments?: PersistedDocuments;
  /** Express middleware on `/graphql`, after the JSON body is parsed and before Apollo Server. */
  graphqlMiddleware?: RequestHandler[];
  /** The `multipart/mixed` answers this extension's `graphqlMiddleware` writes, offered in `/graphql`'s negotiation (graphqlOverHttp.ts). */
  multipartSpecs?: MultipartSpec[];
  /**
   * Rewrites each error before it is sent (after Apollo Server formatted it); extensions run in
   * order, each given the previous one's result. `error` is the original error.
   */
  formatError?(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  /**
   * Adds to the context of each GraphQL request (HTTP, WebSocket or SSE alike; `header` reads the
   * request's headers or the WebSocket's connection params); may throw a GraphQLError to refuse it.
   */
  extendContext?(header: HeaderReader, context: GatewayContext): void | Promise<void>;
  /**
   * Counts one more operation on a transport whose context is built once per connection (each
   * graphql-ws `subscribe`); HTTP and SSE build a context per operation, so `extendContext` counts
   * those. May throw a GraphQLError to refuse the operation.
   */
  admitOperation?(context: GatewayContext): void | Promise<void>;
  /**
   * Refuses (throws a GraphQLError) or rewrites an operation before planning. The gateway runs every
   * extension's check in order on every transport (HTTP, WebSocket, SSE), stopping at the first
   * refusal: a check is wired here once, never as an Apollo plugin of its own (see checkPipeline.ts).
   */
  checkOperation?(check: OperationCheck): OperationVerdict | void;
  /** Called before the HTTP server listens (e.g. to accept WebSocket upgrades). */
  attach?(server: Server, host: GatewayHost): void | Promise<void>;
  /** Runs before the HTTP server closes; in-flight work should finish here. */
  stop?(): Promise<void>;
}
