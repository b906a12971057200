/**
 * "Headers like x-user-id are never trusted", at the gateway and at a subgraph reached directly:
 * only a verified token says who the caller is.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { usersSubgraph, typeDefs as usersSdl } from '../../../subgraphs/users';
import type { Subgraph } from '@trellis/kit';
import { postGraphQL } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';

const spoofed = { 'x-user-id': 'u1', 'x-user-scopes': 'users:email', 'x-forwarded-user': 'u1' };

describe('gateway and subgraphs ignore identity headers', () => {
  let identity: TestIdentity;
  let users: Subgraph;
  let gateway: InProcessGateway;

  beforeAll(async () => {
    identity = await startTestIdentity();
    users = await startSubgraph(usersSubgraph, identity.env);
    const composed = composeSupergraph([{ name: 'users', sdl: usersSdl, url: users.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-ids-')), 'supergraph.graphql');
    writeFileSync(file, composed.supergraphSdl);
    gateway = await startGateway({ ...identity.env, SUPERGRAPH_PATH: file });
  });
  afterAll(async () => {
    await gateway.stop();
    await users.stop();
    await identity.stop();
  });

  it.each([
    ['the gateway', () => gateway.url],
    ['a subgraph reached directly', () => users.url],
  ])('%s: x-user-id alone is anonymous', async (_where, url) => {
    const answer = await postGraphQL(url(), '{ me { id } }', { headers: spoofed });
    expect(answer.body.data).toEqual({ me: null });
    expect(answer.body.errors?.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const email = await postGraphQL(url(), '{ user(id: "u1") { email } }', { headers: spoofed });
    // email is non-null: its FORBIDDEN null moves up to the user.
    expect(email.body.data).toEqual({ user: null });
    expect(email.body.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  });

  it.each([
    ['the gateway', () => gateway.url],
    ['a subgraph reached directly', () => users.url],
  ])("%s: with a token, the caller is the token's subject whatever x-user-id says", async (_where, url) => {
    const answer = await postGraphQL(url(), '{ me { id } }', { headers: { ...spoofed, ...(await identity.bearer('u2')) } });
    expect(answer.body).toEqual({ data: { me: { id: 'u2' } } });
  });
});
