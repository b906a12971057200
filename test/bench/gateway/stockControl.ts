/**
 * How the staleness part changes the bench's data: the subgraph host serves a small HTTP endpoint on
 * loopback that writes a product's stock into the catalog's state store as a saga's reservation
 * would (the stored record, version checked), and answers once the write is done; the runner then
 * announces the change, as the catalog does after its own writes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StateStore } from '@trellis/kit';
import { stockKey } from '../../../subgraphs/catalog/inventory';

export interface StockControl {
  url: string;
  close(): Promise<void>;
}

/** Serves `POST /stock {"id","available"}` on a free loopback port: 204 once written, 404 for a product with no stock. */
export async function serveStockControl(state: StateStore): Promise<StockControl> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      void (async () => {
        try {
          const { id, available } = JSON.parse(body) as { id: string; available: number };
          if (request.method !== 'POST' || request.url !== '/stock' || typeof id !== 'string' || !Number.isInteger(available)) {
            response.writeHead(400).end('POST /stock {"id": string, "available": integer}');
            return;
          }
          const key = stockKey(id);
          const stored = await state.getVersioned(key);
          if (!stored) {
            response.writeHead(404).end(`no stock for ${id}`);
            return;
          }
          const stock = JSON.parse(stored.value) as { reserved: number };
          const written = await state.compareAndSet(key, stored.version, JSON.stringify({ available, reserved: stock.reserved }));
          // The runner is this store's only writer of these products: a lost race is a bug, said as one.
          response.writeHead(written === null ? 409 : 204).end(written === null ? `stock of ${id} changed under the write` : undefined);
        } catch (error) {
          response.writeHead(500).end((error as Error).message);
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stock`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Sets a product's available stock in the subgraphs; resolves once the catalog's store holds it. */
export async function setStock(url: string, id: string, available: number): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, available }), signal: AbortSignal.timeout(5000) });
  if (response.status !== 204) throw new Error(`setting the stock of ${id}: HTTP ${response.status} ${await response.text()}`);
}
