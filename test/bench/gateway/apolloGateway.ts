/**
 * Child process of the bench: plain Apollo Gateway + Apollo Server on express 5, serving the
 * supergraph file argv[2] on port argv[3]. The baseline. Its RemoteGraphQLDataSource passes the
 * caller's `Authorization` on to the subgraphs (the usual `willSendRequest`), so they verify the
 * same token as behind Trellis; the gateway itself neither verifies it nor enforces
 * `@authenticated`/`@requiresScopes` (Apollo Gateway does neither), hence the supergraph it gets
 * has those features' `for: SECURITY` lifted.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import express from 'express';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';

interface CallerContext {
  authorization?: string;
}

class ForwardingDataSource extends RemoteGraphQLDataSource<CallerContext> {
  override willSendRequest({ request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<CallerContext>['willSendRequest']>>[0]): void {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
  }
}

async function main(supergraphPath: string, port: number): Promise<void> {
  const app = express();
  const httpServer = createServer(app);
  const gateway = new ApolloGateway({ supergraphSdl: readFileSync(supergraphPath, 'utf8'), buildService: ({ url }) => new ForwardingDataSource({ url }) });
  const server = new ApolloServer<CallerContext>({ gateway, plugins: [ApolloServerPluginDrainHttpServer({ httpServer })] });
  await server.start();
  app.use('/graphql', express.json({ limit: '1mb' }), expressMiddleware(server, { context: async ({ req }) => ({ authorization: req.headers.authorization }) }));
  await new Promise<void>((resolve) => httpServer.listen(port, '127.0.0.1', resolve));
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

const [supergraphPath, port] = process.argv.slice(2);
if (!supergraphPath || !port) throw new Error('usage: apolloGateway.ts <supergraph file> <port>');
main(supergraphPath, Number(port)).catch((error: unknown) => {
  process.stderr.write(`apollo bench gateway failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
