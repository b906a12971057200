/**
 * The hash-mismatch refusal on loopback, as the gateway mounts the extension's middleware on
 * `/graphql` (after the kit's negotiation and the JSON body parser, before Apollo Server, which
 * answers 299 here): a query sent with a hash that is not its own is 400 BAD_REQUEST under either
 * media type (a legacy `application/json` client included: the request itself is ill-formed), on
 * an APQ and a trusted-documents gateway; everything else reaches Apollo Server.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import { negotiateGraphQLAnswer } from '@trellis/kit/internal';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { persistedQueries, sha256 } from '../../../../gateway/persisted';
import { recordingLogger } from '../../../support/recordingLogger';

const listed = '{ products { id } }';
const other = '{ users { email } }';
const hashOf = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(query) } });
const MISMATCH = { errors: [{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }] };

describe('the hash-mismatch refusal over HTTP', () => {
  const servers: Server[] = [];
  let apqUrl: string;
  let trustedUrl: string;

  const listen = async (trustedDocumentsPath?: string) => {
    const extension = persistedQueries({
      settings: { ttlSeconds: 60, trustedDocumentsPath },
      state: new InMemoryStateStore(),
      logger: recordingLogger().logger,
    });
    const app = express();
    app.use('/graphql', negotiateGraphQLAnswer(), express.json(), ...extension.graphqlMiddleware!);
    app.use('/graphql', (_req: Request, res: Response) => void res.status(299).json({ passedOn: true }));
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  };

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-mismatch-'));
    const manifest = path.join(dir, 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ [sha256(listed)]: listed, [sha256(other)]: other }));
    apqUrl = await listen();
    trustedUrl = await listen(manifest);
  });

  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
  });

  const post = (url: string, body: unknown, accept: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });

  it.each([
    ['application/graphql-response+json', 'application/graphql-response+json; charset=utf-8'],
    ['application/json', 'application/json; charset=utf-8'],
  ])('is 400 BAD_REQUEST under %s, on an APQ and a trusted-documents gateway', async (accept, contentType) => {
    for (const url of [apqUrl, trustedUrl]) {
      const refused = await post(url, { query: other, extensions: hashOf(listed) }, accept);
      expect(refused.status).toBe(400);
      expect(refused.headers.get('content-type')).toBe(contentType);
      expect(await refused.json()).toEqual(MISMATCH);
    }
  });

  it('refuses a GET whose extensions (JSON text) name another hash, and a batch holding one such query', async () => {
    const get = await fetch(
      `${apqUrl}?${new URLSearchParams({ query: other, extensions: JSON.stringify(hashOf(listed)) })}`,
      { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) },
    );
    expect(get.status).toBe(400);
    expect(await get.json()).toEqual(MISMATCH);
    const batch = await post(
      apqUrl,
      [{ query: listed, extensions: hashOf(listed) }, { query: other, extensions: hashOf(listed) }],
      'application/json',
    );
    expect(batch.status).toBe(400);
    expect(await batch.json()).toEqual(MISMATCH);
  });

  it('lets a query with its own hash, a hash alone (with no query or an empty one) and a query alone reach Apollo Server', async () => {
    const bodies = [{ query: other, extensions: hashOf(other) }, { extensions: hashOf(listed) }, { query: '', extensions: hashOf(listed) }, { query: other }];
    for (const body of bodies) {
      const answer = await post(apqUrl, body, 'application/json');
      expect([answer.status, await answer.json()]).toEqual([299, { passedOn: true }]);
    }
  });
});
