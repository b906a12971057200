/**
 * The storefront at `/`: one page, its script and stylesheet, under a strict content security
 * policy (scripts, styles and connections from this origin only; no inline code anywhere).
 */
import { createHash } from 'node:crypto';
import type { Response, Router } from 'express';
import express from 'express';
import type { StorefrontFiles } from './bundle';

export const STOREFRONT_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<keyof StorefrontFiles, string> = {
  'index.html': 'text/html; charset=utf-8',
  'storefront.css': 'text/css; charset=utf-8',
  'storefront.js': 'text/javascript; charset=utf-8',
};

/** Serves `loading`'s files once loaded: `/` the page, `/assets/<file>` the rest, each with an ETag of its content. */
export function storefrontRoutes(loading: Promise<StorefrontFiles>): Router {
  const router = express.Router();
  const ready = loading.then((files) => ({ files, etags: etagsOf(files) }));
  ready.catch(() => undefined); // reported by the route that needs it
  const send = async (res: Response, file: keyof StorefrontFiles, ifNoneMatch: string | undefined) => {
    const { files, etags } = await ready;
    const etag = etags[file];
    res.setHeader('content-security-policy', STOREFRONT_CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('content-type', TYPES[file]);
    // The page is small and names its assets without a version: always revalidate, and answer 304 when unchanged.
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('etag', etag);
    if (ifNoneMatch === etag) return void res.status(304).end();
    res.send(files[file]);
  };
  router.get('/', (req, res) => send(res, 'index.html', req.get('if-none-match')));
  router.get('/assets/:file', async (req, res, next) => {
    const file = req.params.file as keyof StorefrontFiles;
    if (file === 'index.html' || !Object.hasOwn(TYPES, file)) return next();
    await send(res, file, req.get('if-none-match'));
  });
  return router;
}

function etagsOf(files: StorefrontFiles): Record<keyof StorefrontFiles, string> {
  const tag = (text: string) => `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
  return {
    'index.html': tag(files['index.html']),
    'storefront.css': tag(files['storefront.css']),
    'storefront.js': tag(files['storefront.js']),
  };
}
