/** Every mobile read carries a strong ETag (hash of its body); a matching `If-None-Match` gets 304 and no body. */
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';

export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

export function sendWithEtag(req: Request, res: Response, value: unknown): void {
  const body = JSON.stringify(value);
  const etag = etagOf(body);
  res.setHeader('etag', etag);
  res.setHeader('cache-control', 'private, no-cache'); // revalidate every time; never in a shared cache
  const candidates = (req.header('if-none-match') ?? '').split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (candidates.includes(etag) || candidates.includes('*')) {
    res.status(304).end();
    return;
  }
  res.type('application/json').send(body);
}
