/**
 * The plan corpus run, not only planned (test/unit/planner/planCorpus.test.ts plans it): every query
 * the examples and tests write, through a gateway over the five example subgraphs, answered alike
 * over HTTP, SSE and graphql-ws (same data, same errors at the same paths with the same codes),
 * each answer kept as a snapshot so a planner or executor change that moves data shows here; again
 * for an anonymous caller (field authorization alike everywhere). Then
 * with the catalog stopped for real: the queries that ask it answer the same partial data and the
 * same errors (paths and codes; the message says whether the breaker had opened yet) on every transport.
 */
import { parse, Kind, OperationTypeNode, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionNode } from 'graphql';
import { typeDefs as users } from '../../../subgraphs/users';
import { typeDefs as catalog } from '../../../subgraphs/catalog';
import { typeDefs as orders } from '../../../subgraphs/orders';
import { typeDefs as payments } from '../../../subgraphs/payments';
import { typeDefs as sagas } from '../../../subgraphs/sagas';
import { plannerFor } from '../../support/planner/plan';
import { exampleVariables, operationCorpus } from '../../support/planner/corpus';
import { answerOnEveryTransport, answersOnEveryTransport, pathsAndCodes } from '../../support/everyTransport';
import { startStaticPlatform, type StaticPlatform } from '../../support/staticPlatform';
import { startTestIdentity, type TestIdentity } from '../../support/identity';

const planner = plannerFor(Object.entries({ users, catalog, orders, payments, sagas }).map(([name, typeDefs]) => ({ name, typeDefs })));

/** The root fields a selection asks for, through fragments. */
const rootFields = (document: DocumentNode, selections: readonly SelectionNode[]): string[] =>
  selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection.name.value];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFields(document, selection.selectionSet.selections);
    const fragment = document.definitions.find((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
    return rootFields(document, fragment?.selectionSet.selections ?? []);
  });

const corpus = operationCorpus(planner.schema);
const operationsOf = (kind: OperationTypeNode) =>
  corpus.flatMap((text) =>
    parse(text)
      .definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && d.operation === kind)
      .map((operation) => ({ text, name: operation.name?.value })),
  );

/** Each query of the corpus with its operation name (a document may hold several). Mutations start sagas and are run elsewhere. */
const queries = corpus.flatMap((text) => {
  const document = parse(text);
  return document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && d.operation === OperationTypeNode.QUERY)
    .map((operation) => ({
      text,
      name: operation.name?.value,
      introspection: rootFields(document, operation.selectionSet.selections).every((field) => field.startsWith('__')),
      asksCatalog: planner.plan(document, operation.name?.value).pretty.includes('Fetch(service: "catalog")'),
    }));
});
const titled = (list: typeof queries) => list.map(({ text, name }) => [name ? `${name}: ${text}` : text, text, name] as const);

describe('the plan corpus answers alike on every transport', () => {
  let identity: TestIdentity;
  let platform: StaticPlatform;
  let owner: { authorization: string };

  beforeAll(async () => {
    identity = await startTestIdentity();
    platform = await startStaticPlatform(identity.env, {}, identity.env, { subgraphs: ['users', 'orders', 'catalog', 'payments', 'sagas'] });
    owner = await identity.bearer('u1');
  });

  afterAll(async () => {
    await platform?.stop();
    await identity?.stop();
  });

  it('finds a corpus worth running', () => {
    expect(queries.length).toBeGreaterThan(60);
  });

  const run = (query: string, operationName: string | undefined) =>
    answerOnEveryTransport(platform.url, { query, operationName, variables: exampleVariables(parse(query), operationName), headers: owner });

  it.each(titled(queries.filter((query) => !query.introspection)))('%s', async (_title, query, operationName) => {
    expect(await run(query, operationName)).toMatchSnapshot();
  });

  // Introspection answers alike too; not kept as snapshots, which every schema change would move.
  it.each(titled(queries.filter((query) => query.introspection)))('introspection %s', async (_title, query, operationName) => {
    expect(await run(query, operationName)).toEqual({ data: expect.anything() });
  });

  // A subscription to a saga there is not: graphql-ws, SSE and multipart HTTP answer it alike (every event, in order).
  it.each(titled(operationsOf(OperationTypeNode.SUBSCRIPTION).map((operation) => ({ ...operation, introspection: false, asksCatalog: false }))))(
    'subscription %s',
    async (_title, query, operationName) => {
      const answers = await answersOnEveryTransport(platform.url, { query, operationName, variables: exampleVariables(parse(query), operationName), headers: owner });
      expect(answers).toMatchSnapshot();
    },
  );

  // Field authorization alike on every transport: what an anonymous caller may not see is refused at the same paths.
  it.each(titled(queries.filter((query) => !query.introspection)))('anonymous: %s', async (_title, query, operationName) => {
    const answer = await answerOnEveryTransport(platform.url, { query, operationName, variables: exampleVariables(parse(query), operationName) });
    expect(Object.keys(answer).filter((key) => key === 'data' || key === 'errors')).not.toEqual([]);
  });

  describe('with the catalog stopped', () => {
    beforeAll(async () => {
      await platform.stopSubgraph('catalog');
    });

    it.each(titled(queries.filter((query) => query.asksCatalog)))('%s', async (_title, query, operationName) => {
      const answer = await answerOnEveryTransport(
        platform.url,
        { query, operationName, variables: exampleVariables(parse(query), operationName), headers: owner },
        { compared: pathsAndCodes },
      );
      expect(answer).toMatchSnapshot();
    });
  });
});
