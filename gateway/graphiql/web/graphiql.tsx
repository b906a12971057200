/**
 * GraphiQL for the gateway's `/graphql`: HTTP for queries and mutations, graphql-ws on the same
 * path for subscriptions. The headers editor's values go with both (as WebSocket connection
 * params `{ headers }` for a subscription, which is where the gateway reads a token there).
 */
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher, type Fetcher, type FetcherOpts, type FetcherParams } from '@graphiql/toolkit';
import { createClient, type Client } from 'graphql-ws';
import { parse, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import 'graphiql/style.css';

const httpUrl = `${location.origin}/graphql`;
const wsUrl = httpUrl.replace(/^http/, 'ws');
const http = createGraphiQLFetcher({ url: httpUrl });

/** One graphql-ws client per set of headers: a new token opens a new connection. */
const clients = new Map<string, Client>();
function wsClient(headers: Record<string, unknown>): Client {
  const key = JSON.stringify(headers);
  let client = clients.get(key);
  if (!client) {
    client = createClient({ url: wsUrl, connectionParams: { headers }, lazy: true });
    clients.set(key, client);
  }
  return client;
}

function isSubscription(params: FetcherParams): boolean {
  try {
    const operations = parse(params.query).definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
    const chosen = operations.find((operation) => operation.name?.value === params.operationName) ?? operations[0];
    return chosen?.operation === 'subscription';
  } catch {
    return false; // let the server answer the syntax error
  }
}

const fetcher: Fetcher = (params: FetcherParams, options?: FetcherOpts) => {
  if (!isSubscription(params)) return http(params, options);
  const headers = (options?.headers ?? {}) as Record<string, unknown>;
  const events = wsClient(headers).iterate({ query: params.query, variables: params.variables ?? undefined, operationName: params.operationName ?? undefined });
  // GraphiQL prints each result as JSON; its type wants GraphQLError instances where the wire has plain formatted errors.
  return events as unknown as AsyncIterable<ExecutionResult>;
};

createRoot(document.getElementById('root')!).render(<GraphiQL fetcher={fetcher} defaultEditorToolsVisibility="headers" />);
