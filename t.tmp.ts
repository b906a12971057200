import { composeSupergraph } from './gateway/supergraph/compose';
import { QueryPlanner } from '@apollo/query-planner';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { parse } from 'graphql';
import { unreachableInterfaceObjectCase } from './test/support/planner/cases';
const c = composeSupergraph(unreachableInterfaceObjectCase.map((s) => ({ name: s.name, url: 'http://x', sdl: s.typeDefs })));
if (!c.ok) throw new Error(c.errors.join());
const sg = Supergraph.build(c.supergraphSdl); const qp = new QueryPlanner(sg);
for (const q of ['{ a { id field } }', '{ a { id } }', '{ product { ... on Bread { id } } }', '{ product { id name } }']) {
try { qp.buildQueryPlan(operationFromDocument(sg.apiSchema(), parse(q))); console.log(q, 'ok'); } catch (e) { console.log(q, (e as Error).message.slice(0, 300)); }
}
