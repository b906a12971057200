/**
 * Sorts a subgraph fetch's query: the query plan's entity fetches (`_entities(representations:
 * $representations)`, the only root field), other queries (root fetches, cached only when their
 * subgraph declares a maxAge), or neither (mutations, subscriptions, what does not parse). Each is
 * named by a hash of its text. Parsed once per distinct text (a plan has a few), kept in a small LRU.
 */
import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { sha256 } from '../sha256';
import type { RootOperation } from './rootAnswer';

export type SubgraphQuery = { kind: 'entities'; hash: string } | ({ kind: 'root'; hash: string } & RootOperation);

export class EntityQueries {
  private readonly known = new LRUCache<string, SubgraphQuery | false>({ max: 2000 });

  /** What `query` is, or undefined when the cache leaves it alone. */
  of(query: string): SubgraphQuery | undefined {
    let found = this.known.get(query);
    if (found === undefined) {
      found = sortQuery(query) ?? false;
      this.known.set(query, found);
    }
    return found || undefined;
  }
}

function sortQuery(query: string): SubgraphQuery | undefined {
  let operations: OperationDefinitionNode[];
  let fragments: FragmentDefinitionNode[];
  try {
    const document = parse(query);
    operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
    fragments = document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION);
  } catch {
    return undefined;
  }
  const operation = operations[0];
  if (operations.length !== 1 || operation.operation !== 'query') return undefined;
  const hash = sha256(query);
  if (isEntityFetch(operation)) return { kind: 'entities', hash };
  const touchesEntities = operation.selectionSet.selections.some((selection) => selection.kind === Kind.FIELD && selection.name.value === '_entities');
  return touchesEntities ? undefined : { kind: 'root', hash, operation, fragments: new Map(fragments.map((fragment) => [fragment.name.value, fragment])) };
}

function isEntityFetch(operation: OperationDefinitionNode): boolean {
  if (operation.selectionSet.selections.length !== 1) return false;
  const root = operation.selectionSet.selections[0];
  if (root.kind !== Kind.FIELD || root.name.value !== '_entities' || root.alias) return false;
  const argument = root.arguments?.[0];
  return root.arguments?.length === 1 && argument?.name.value === 'representations' && argument.value.kind === Kind.VARIABLE && argument.value.name.value === 'representations';
}
