/**
 * Plan diff: the plans of every operation in the examples and the tests, against the example
 * supergraph, as Trellis's gateway plans them (patched planner, document and plan rewrites). The
 * snapshots change only where a planner fix means them to; an Apollo upgrade that moves a plan fails here.
 */
import { parse, Kind, type OperationDefinitionNode } from 'graphql';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { typeDefs as users } from '../../../subgraphs/users';
import { typeDefs as catalog } from '../../../subgraphs/catalog';
import { typeDefs as orders } from '../../../subgraphs/orders';
import { typeDefs as payments } from '../../../subgraphs/payments';
import { typeDefs as sagas } from '../../../subgraphs/sagas';
import { plannerForSupergraph } from '../../support/planner/plan';
import { operationCorpus } from '../../support/planner/corpus';

const composed = composeSupergraph(
  Object.entries({ users, catalog, orders, payments, sagas }).map(([name, sdl]) => ({ name, sdl, url: `http://${name}.invalid/graphql` })),
);
if (!composed.ok) throw new Error(composed.errors.join('\n'));
const planner = plannerForSupergraph(composed.supergraphSdl);
const corpus = operationCorpus(planner.schema);

describe('plan diff over the examples and tests', () => {
  it('finds a corpus worth diffing', () => {
    expect(corpus.length).toBeGreaterThan(30);
  });

  it.each(corpus.map((operation) => [operation]))('%s', (operation) => {
    const document = parse(operation);
    const names = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION).map((d) => d.name?.value);
    const plans = names.map((name) => planner.plan(document, name).pretty);
    expect(plans.join('\n')).toMatchSnapshot();
  });
});
