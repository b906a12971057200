/**
 * GraphiQL (the `graphiql` package, bundled from gateway/graphiql/web, no CDN) at the public
 * `/graphql` for a browser's GET, in development only (assemble.ts leaves it out when
 * NODE_ENV=production). Queries and mutations go over HTTP, subscriptions over graphql-ws on the
 * same path. Apollo's own landing page, which loads its sandbox from a CDN, is off in both modes.
 */
import path from 'node:path';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Request } from 'express';
import type { GatewayExtension } from '../extension';
import { BrowserBundle, bundlePage } from '@trellis/kit/internal';

export const GRAPHIQL_BUNDLE = new BrowserBundle({ name: 'graphiql', entry: path.join(__dirname, 'web', 'graphiql.tsx'), prebuiltDir: path.join(__dirname, 'web', 'bundle') });

/** A browser opening the endpoint: a GET that asks for HTML and carries no operation. */
function isBrowserVisit(req: Request): boolean {
  return req.method === 'GET' && req.query.query === undefined && req.query.extensions === undefined && (req.accepts(['application/json', 'text/html']) === 'text/html');
}

/** Production: no GraphiQL, and no Apollo landing page either (it loads from a CDN). */
export function noLandingPage(): GatewayExtension {
  return { name: 'no-landing-page', apolloPlugins: [ApolloServerPluginLandingPageDisabled()] };
}

export function graphiql(): GatewayExtension {
  return {
    name: 'graphiql',
    apolloPlugins: [ApolloServerPluginLandingPageDisabled()],
    mount: (app) => {
      app.get('/graphql', async (req, res, next) => {
        if (!isBrowserVisit(req)) return next();
        const files = await GRAPHIQL_BUNDLE.files();
        res.type('html').setHeader('cache-control', 'no-cache').send(bundlePage({ title: 'Trellis GraphiQL', base: '/graphiql/', name: 'graphiql', hasCss: files.has('graphiql.css') }));
      });
      app.get('/graphiql/:file', async (req, res, next) => {
        const file = (await GRAPHIQL_BUNDLE.files()).get(req.params.file);
        if (!file) return next();
        res.type(file.contentType).setHeader('cache-control', 'no-cache').send(file.body);
      });
    },
  };
}
