/**
 * Child process of the bench: plain Apollo Gateway + Apollo Server on express 5, serving the
 * supergraph file argv[2] on port argv[3]: the baseline. Its context function verifies the caller's
 * bearer token with jose against the issuer argv[4]'s JWKS (as a user of Apollo Gateway would: it
 * has no JWT support of its own), refusing a bad one with 401, and RemoteGraphQLDataSource passes
 * the `Authorization` on to the subgraphs, which verify it again and enforce
 * `@authenticated`/`@requiresScopes` (Apollo Gateway enforces neither, so the supergraph it gets has
 * those features' `for: SECURITY` lifted).
 *
 * argv[5] `undici`: subgraph fetches go through undici's `request` on one keep-alive Agent instead of
 * the default make-fetch-happen, the ~20-line change a user could make.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import express from 'express';
import { GraphQLError } from 'graphql';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Agent, request, type Dispatcher } from 'undici';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';

/** RemoteGraphQLDataSource's `fetcher` option (the type lives in a package of Apollo's own). */
type Fetcher = NonNullable<NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher']>;

interface CallerContext {
  authorization?: string;
  /** The verified token's subject, when there is a token. */
  sub?: string;
}

class ForwardingDataSource extends RemoteGraphQLDataSource<CallerContext> {
  override willSendRequest({ request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<CallerContext>['willSendRequest']>>[0]): void {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
  }
}

/** The keep-alive fetcher: one undici Agent for every subgraph, the body read once into a Response. */
function undiciFetcher(): Fetcher {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 128 });
  return async (url, init) => {
    const answer = await request(url, { method: (init?.method ?? 'POST') as Dispatcher.HttpMethod, headers: init?.headers, body: init?.body, dispatcher: agent });
    const text = await answer.body.text();
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) if (typeof value === 'string') headers.set(name, value);
    return new Response(text, { status: answer.statusCode, headers }) as unknown as Awaited<ReturnType<Fetcher>>;
  };
}

function tokenVerifier(issuer: string): (authorization: string | undefined) => Promise<string | undefined> {
  const keys = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  return async (authorization) => {
    if (!authorization) return undefined;
    const token = /^Bearer (.+)$/i.exec(authorization)?.[1];
    try {
      if (!token) throw new Error('not a bearer token');
      const { payload } = await jwtVerify(token, keys, { issuer, audience: 'trellis', algorithms: ['ES256'] });
      return payload.sub;
    } catch (error) {
      throw new GraphQLError(`invalid token: ${(error as Error).message}`, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
    }
  };
}

async function main(supergraphPath: string, port: number, issuer: string, fetcher: string | undefined): Promise<void> {
  const app = express();
  const httpServer = createServer(app);
  const dataSourceOptions = fetcher === 'undici' ? { fetcher: undiciFetcher() } : {};
  const gateway = new ApolloGateway({ supergraphSdl: readFileSync(supergraphPath, 'utf8'), buildService: ({ url }) => new ForwardingDataSource({ url, ...dataSourceOptions }) });
  const server = new ApolloServer<CallerContext>({ gateway, plugins: [ApolloServerPluginDrainHttpServer({ httpServer })] });
  await server.start();
  const verify = tokenVerifier(issuer);
  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    expressMiddleware(server, { context: async ({ req }) => ({ authorization: req.headers.authorization, sub: await verify(req.headers.authorization) }) }),
  );
  await new Promise<void>((resolve) => httpServer.listen(port, '127.0.0.1', resolve));
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

const [supergraphPath, port, issuer, fetcher] = process.argv.slice(2);
if (!supergraphPath || !port || !issuer) throw new Error('usage: apolloGateway.ts <supergraph file> <port> <token issuer> [undici]');
main(supergraphPath, Number(port), issuer, fetcher).catch((error: unknown) => {
  process.stderr.write(`apollo bench gateway failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
