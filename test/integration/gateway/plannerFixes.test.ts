/**
 * Issue 20 end to end: each planner bug's subgraphs served by the kit on real HTTP servers, behind
 * Trellis's gateway, answering what the subgraphs hold (Apollo Gateway 2.14 alone answers wrong
 * data, a null, or an internal assertion), alike over HTTP, SSE, graphql-ws and with @defer added
 * in both incremental formats (issue 32).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import type { Subgraph } from '@trellis/kit';
import { answerOnEveryTransport } from '../../support/everyTransport';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { nonResolvableKeyCase, requiredTwiceCase, requiresArgumentCase, unreachableInterfaceObjectCase, type CaseSubgraph } from '../../support/planner/cases';

describe('query planner fixes through the gateway', () => {
  const running: Array<{ stop(): Promise<void> }> = [];
  afterEach(async () => {
    for (const thing of running.splice(0).reverse()) await thing.stop();
  });

  const serve = async (subgraphs: CaseSubgraph[]): Promise<InProcessGateway> => {
    const served: Array<{ name: string; sdl: string; url: string }> = [];
    for (const { name, typeDefs, resolvers } of subgraphs) {
      const subgraph: Subgraph = await startSubgraph(() => ({ name: `planner-${name}`, typeDefs, resolvers }), {});
      running.push(subgraph);
      served.push({ name, sdl: typeDefs, url: subgraph.url });
    }
    const composed = composeSupergraph(served);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-planner-')), 'supergraph.graphql');
    writeFileSync(file, composed.supergraphSdl);
    const gateway = await startGateway({ SUPERGRAPH_PATH: file });
    running.push(gateway);
    return gateway;
  };

  it('bug 1: comes back after @requires with the resolvable key, so y is there', async () => {
    const gateway = await serve(nonResolvableKeyCase);
    expect(await answerOnEveryTransport(gateway.url, { query: '{ t { id y } }' })).toEqual({ data: { t: { id: 't1', y: 42 } } });
  });

  it('bug 2: an unreachable field is a clean planning error with no data', async () => {
    const gateway = await serve(unreachableInterfaceObjectCase);
    const body = await answerOnEveryTransport(gateway.url, { query: '{ a { id field } }' });
    expect(body.data).toBeUndefined();
    expect(body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_PLANNING_FAILED' }) })]);
    expect(JSON.stringify(body)).not.toMatch(/shouldn't have happened|Was not able/);
    // With @defer too: the deferred part's position probe asks no `__typename` of the @interfaceObject-backed
    // interface, which b's fetch does not carry (asking it nulled b, silently, in Apollo's shaping).
    expect(await answerOnEveryTransport(gateway.url, { query: '{ b { id field } }' })).toEqual({ data: { b: { id: 'n1', field: 'foo' } } });
  });

  it('bug 3: the client gets its own comments(limit: 1), and summary still sees three', async () => {
    const gateway = await serve(requiresArgumentCase);
    const query = '{ post { comments(limit: 1) { id body } summary } }';
    for (let i = 0; i < 2; i++) {
      // Twice: the second answer comes from the plan cache, keyed by the rewritten document.
      expect(await answerOnEveryTransport(gateway.url, { query })).toEqual({ data: { post: { comments: [{ id: 'c1', body: 'comment 1' }], summary: '3 comments: c1,c2,c3' } } });
    }
  });

  it('bug 4: usd and eur each see the price in their own currency', async () => {
    const gateway = await serve(requiredTwiceCase);
    expect(await answerOnEveryTransport(gateway.url, { query: '{ product { usd eur } }' })).toEqual({ data: { product: { usd: '$10', eur: '€9' } } });
  });

  it('bug 4 under @include: usd asked only when $c holds, each still in its own currency', async () => {
    const gateway = await serve(requiredTwiceCase);
    const query = 'query ($c: Boolean!) { product { usd @include(if: $c) eur } }';
    expect(await answerOnEveryTransport(gateway.url, { query, variables: { c: true } })).toEqual({ data: { product: { usd: '$10', eur: '€9' } } });
    expect(await answerOnEveryTransport(gateway.url, { query, variables: { c: false } })).toEqual({ data: { product: { eur: '€9' } } });
  });
});
