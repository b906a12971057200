/**
 * Answers compressed for clients that ask: a large answer comes brotli- or gzip-encoded by the
 * client's Accept-Encoding and decodes to exactly the uncompressed answer; a small one, or one to
 * a client that does not ask, comes as it is; RESPONSE_COMPRESSION=false turns it off.
 */
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { catalogSubgraph, typeDefs as catalogSdl } from '../../../subgraphs/catalog';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import type { Subgraph } from '@trellis/kit';

interface Answer {
  status: number;
  encoding?: string;
  vary: string;
  body: Buffer;
}

function post(url: string, query: string, acceptEncoding?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}) };
    const call = request(url, { method: 'POST', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, encoding: response.headers['content-encoding'], vary: String(response.headers.vary ?? ''), body: Buffer.concat(chunks) }),
      );
    });
    call.on('error', reject);
    call.end(JSON.stringify({ query }));
  });
}

// The schema's types and fields: several KiB, like a list page or a deep query.
const LARGE = '{ __schema { types { name description fields { name description } } } }';
const SMALL = '{ product(id: "p1") { name } }';

describe('response compression', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-compress-')), 'supergraph.graphql');
  let catalog: Subgraph;
  const gateways: InProcessGateway[] = [];

  beforeAll(async () => {
    catalog = await startSubgraph(catalogSubgraph, {});
    const composed = composeSupergraph([{ name: 'catalog', sdl: catalogSdl, url: catalog.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    writeFileSync(file, composed.supergraphSdl);
  });
  afterAll(async () => {
    for (const gateway of gateways) await gateway.stop();
    await catalog?.stop();
  });

  const gatewayWith = async (env: Record<string, string> = {}) => {
    const gateway = await startGateway({ SUPERGRAPH_PATH: file, ...env });
    gateways.push(gateway);
    return gateway;
  };

  it('compresses a large answer by the client`s Accept-Encoding, decoding to the plain answer', async () => {
    const gateway = await gatewayWith();
    const plain = await post(gateway.url, LARGE);
    expect(plain.status).toBe(200);
    expect(plain.encoding).toBeUndefined();
    const answer = JSON.parse(plain.body.toString('utf8')) as { data: { __schema: { types: Array<{ name: string }> } } };
    expect(answer.data.__schema.types.map((type) => type.name)).toContain('Product');
    expect(plain.body.length).toBeGreaterThan(4096);

    const gzipped = await post(gateway.url, LARGE, 'gzip');
    expect(gzipped.encoding).toBe('gzip');
    expect(gzipped.vary.toLowerCase()).toContain('accept-encoding');
    expect(gunzipSync(gzipped.body).toString('utf8')).toBe(plain.body.toString('utf8'));
    expect(gzipped.body.length).toBeLessThan(plain.body.length / 2);

    const brotli = await post(gateway.url, LARGE, 'br, gzip;q=0.5');
    expect(brotli.encoding).toBe('br');
    expect(brotliDecompressSync(brotli.body).toString('utf8')).toBe(plain.body.toString('utf8'));
  });

  it('sends a small answer as it is, even to a client that accepts gzip', async () => {
    const gateway = await gatewayWith();
    const small = await post(gateway.url, SMALL, 'gzip');
    expect(small.encoding).toBeUndefined();
    expect(JSON.parse(small.body.toString('utf8'))).toEqual({ data: { product: { name: expect.any(String) } } });
  });

  it('never compresses with RESPONSE_COMPRESSION=false', async () => {
    const gateway = await gatewayWith({ RESPONSE_COMPRESSION: 'false' });
    const answer = await post(gateway.url, LARGE, 'gzip, br');
    expect(answer.status).toBe(200);
    expect(answer.encoding).toBeUndefined();
    expect(answer.body.length).toBeGreaterThan(4096);
    expect(answer.body.toString('utf8')).toContain('"name":"Product"');
  });
});
