/** Static mode: a supergraph file served as is, hot-reloaded when it changes, last good kept when broken. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { usersSubgraph, typeDefs as usersSdl } from '../../../subgraphs/users';
import { catalogSubgraph, typeDefs as catalogSdl } from '../../../subgraphs/catalog';
import { eventually, postGraphQL } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import type { Subgraph } from '@trellis/kit';

describe('static supergraph mode', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-static-')), 'supergraph.graphql');
  const subgraphs: Subgraph[] = [];
  let gateway: InProcessGateway;

  const compose = (parts: Array<{ name: string; sdl: string; subgraph: Subgraph }>) => {
    const result = composeSupergraph(parts.map(({ name, sdl, subgraph }) => ({ name, sdl, url: subgraph.url })));
    if (!result.ok) throw new Error(result.errors.join('\n'));
    return result.supergraphSdl;
  };

  afterAll(async () => {
    await gateway?.stop();
    for (const subgraph of subgraphs) await subgraph.stop();
  });

  it('serves the file, reloads a valid change, and keeps the last good on a broken one', async () => {
    const users = await startSubgraph(usersSubgraph, {});
    const catalog = await startSubgraph(catalogSubgraph, {});
    subgraphs.push(users, catalog);
    writeFileSync(file, compose([{ name: 'users', sdl: usersSdl, subgraph: users }]));
    gateway = await startGateway({ SUPERGRAPH_PATH: file });
    expect((await postGraphQL(gateway.url, '{ user(id: "u1") { name } }')).body.data).toEqual({ user: { name: 'Ada Lovelace' } });
    const admin = () => fetch(`${gateway.server.admin.url}/admin/supergraph`).then((r) => r.json() as Promise<{ lastError?: { message: string } }>);
    expect(await admin()).toMatchObject({ source: 'file', version: 1, subgraphs: [{ name: 'users', url: users.url }] });

    writeFileSync(
      file,
      compose([
        { name: 'users', sdl: usersSdl, subgraph: users },
        { name: 'catalog', sdl: catalogSdl, subgraph: catalog },
      ]),
    );
    await eventually(async () => expect((await postGraphQL(gateway.url, '{ product(id: "p5") { name } }')).body.data).toEqual({ product: { name: 'Gateway Desk Lamp' } }), 5000);

    writeFileSync(file, 'this is not a supergraph');
    await eventually(async () => expect((await admin()).lastError?.message).toBeTruthy(), 5000);
    expect((await postGraphQL(gateway.url, '{ product(id: "p5") { name } user(id: "u2") { name } }')).body.data).toEqual({
      product: { name: 'Gateway Desk Lamp' },
      user: { name: 'Grace Hopper' },
    });
    expect(await admin()).toMatchObject({ version: 2, compositionFailures: 1 });
    const sdl = await (await fetch(`${gateway.server.admin.url}/admin/supergraph.graphql`)).text();
    expect(sdl).toContain('CATALOG @join__graph');
  });
});
