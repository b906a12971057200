/**
 * One operation on every transport a client may use (HTTP, SSE, graphql-ws, multipart HTTP for a
 * subscription, and HTTP with @defer added in both incremental formats), each answer read back into
 * the same shape and expected alike: a test states its operation once, and a transport that
 * answers other data, other errors, paths or codes fails it, named.
 */
import { buildClientSchema, getIntrospectionQuery, getOperationAST, parse, type GraphQLSchema, type IntrospectionQuery } from 'graphql';
import { postGraphQL, postGraphQLSse, runGraphQLWs, type GraphQLResult } from './graphql';
import { mergeIncremental, withDefer, type IncrementalSpec } from './incremental';
import { allMultipartParts, isHeartbeat, postGraphQLMultipart } from './multipartParts';

export interface Operation {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** The caller's headers (over graphql-ws, in `connectionParams.headers`, as clients send them). */
  headers?: Record<string, string>;
}

export type Answer = GraphQLResult['body'];

export interface Transport {
  name: string;
  /** Every result the operation gets, in order (a query gets one); undefined when it cannot be sent this way. */
  answers(url: string, operation: Operation): Promise<Answer[] | undefined>;
}

const isSubscription = ({ query, operationName }: Operation) => {
  try {
    return getOperationAST(parse(query), operationName)?.operation === 'subscription';
  } catch {
    return false; // not a document: every transport refuses it alike
  }
};

/** A query or mutation as JSON over HTTP (a subscription is not answered this way). */
export const overHttp: Transport = {
  name: 'HTTP',
  answers: async (url, { query, ...options }) => (isSubscription({ query, ...options }) ? undefined : [(await postGraphQL(url, query, options)).body]),
};

export const overSse: Transport = {
  name: 'SSE',
  answers: async (url, { query, ...options }) => {
    const { events, body } = await postGraphQLSse(url, query, options);
    // Refused before the stream opens (a body over the limit): answered as on HTTP.
    if (body) return [body];
    expect(events.at(-1)?.event).toBe('complete');
    return events.filter((event) => event.event === 'next').map((event) => event.data as Answer);
  },
};

export const overGraphQLWs: Transport = {
  name: 'graphql-ws',
  answers: (url, { query, ...options }) => runGraphQLWs(url, query, options),
};

/** A subscription over multipart HTTP, as Apollo Client asks for one: each event's payload (heartbeats skipped), a transport error as its errors. */
export const overMultipart: Transport = {
  name: 'multipart HTTP',
  answers: async (url, operation) => {
    if (!isSubscription(operation)) return undefined;
    const response = await postGraphQLMultipart(url, operation.query, { variables: operation.variables, headers: operation.headers });
    // Refused before the stream opens: one JSON answer.
    if (!response.headers.get('content-type')?.startsWith('multipart/mixed')) return [(await response.json()) as Answer];
    const events = (await allMultipartParts(response)).filter((part) => !isHeartbeat(part)) as Array<{ payload?: Answer | null; errors?: Answer['errors'] }>;
    return events.map(({ payload, errors }) => payload ?? { errors });
  },
};

/** The endpoint's schema, by introspection (a gateway not in production), asked once per endpoint. */
const schemas = new Map<string, Promise<GraphQLSchema>>();
const schemaOf = (url: string) => {
  let schema = schemas.get(url);
  if (!schema) {
    schema = postGraphQL<IntrospectionQuery>(url, getIntrospectionQuery()).then(({ body }) => {
      if (!body.data) throw new Error(`the @defer transport reads the schema by introspection, which ${url} refused: ${JSON.stringify(body.errors)}`);
      return buildClientSchema(body.data);
    });
    schemas.set(url, schema);
  }
  return schema;
};

/**
 * Over HTTP with `@defer` added wherever a selection has a nullable field to put off (withDefer),
 * asking for multipart in `spec`: the parts merged into the result a client ends with. Only for
 * queries with somewhere to defer.
 */
export const deferredOver = (spec: IncrementalSpec): Transport => ({
  name: `HTTP @defer ${spec}`,
  answers: async (url, { query, headers, ...rest }) => {
    const deferred = withDefer(query, await schemaOf(url));
    if (!deferred) return undefined;
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: `multipart/mixed;${spec}, application/json` },
      body: JSON.stringify({ query: deferred, ...rest }),
      signal: AbortSignal.timeout(30_000),
    });
    // Refused before it ran (a limit, a bad variable): one JSON answer, as without @defer.
    if (!response.headers.get('content-type')?.startsWith('multipart/mixed')) return [(await response.json()) as Answer];
    return [mergeIncremental(await allMultipartParts(response), spec) as Answer];
  },
});

/** Both incremental wire formats (the gateway serves @defer). */
export const DEFERRED: readonly Transport[] = [deferredOver('deferSpec=20220824'), deferredOver('incrementalSpec=v0.2')];

export const TRANSPORTS: readonly Transport[] = [overHttp, overSse, overGraphQLWs, overMultipart, ...DEFERRED];

/** An answer with each error reduced to its path and code: what must match when messages may differ by timing (a breaker that opened between two sends). */
export function pathsAndCodes(answer: Answer): Answer {
  if (!answer.errors) return answer;
  return { ...answer, errors: answer.errors.map(({ path, extensions }) => ({ message: '', path, extensions: { code: extensions?.code } })) };
}

export interface EveryTransportOptions {
  transports?: readonly Transport[];
  /** What of each answer is compared (the whole answer unless told). */
  compared?: (answer: Answer) => Answer;
}

/**
 * Sends `operation` on every transport that takes it, at once, and expects each to answer exactly
 * what the first answers (data, errors with their messages, paths and extensions, in any order;
 * every event of a subscription, in order). Returns those answers (as `compared` sees them).
 */
export async function answersOnEveryTransport(url: string, operation: Operation, { transports = TRANSPORTS, compared = (answer) => answer }: EveryTransportOptions = {}): Promise<Answer[]> {
  // Errors in one order: where each comes in the list says nothing (a deferred part's come later).
  const canonical = (answer: Answer): Answer => (answer.errors ? { ...answer, errors: [...answer.errors].sort((a, b) => errorKey(a).localeCompare(errorKey(b))) } : answer);
  const answered = await Promise.all(transports.map(async (transport) => ({ transport: transport.name, answers: await transport.answers(url, operation) })));
  const [reference, ...others] = answered.filter((sent): sent is { transport: string; answers: Answer[] } => sent.answers !== undefined);
  for (const other of others) {
    try {
      expect(other.answers.map(compared).map(canonical)).toEqual(reference.answers.map(compared).map(canonical));
    } catch (error) {
      throw new Error(`${other.transport} answered otherwise than ${reference.transport}:\n${(error as Error).message}`);
    }
  }
  return reference.answers.map(compared);
}

/** answersOnEveryTransport for a query or mutation: its one answer. */
export async function answerOnEveryTransport(url: string, operation: Operation, options: EveryTransportOptions = {}): Promise<Answer> {
  const answers = await answersOnEveryTransport(url, operation, options);
  expect(answers).toHaveLength(1);
  return answers[0];
}

const errorKey = (error: NonNullable<Answer['errors']>[number]) => `${JSON.stringify(error.path ?? [])} ${error.message} ${JSON.stringify(error.extensions ?? {})}`;
