/**
 * Recognises the query plan's entity fetches (`_entities(representations: $representations)`,
 * the only root field) and names each by a hash of its text: entries for one entity differ by
 * what was asked of it. Parsed once per distinct text (a plan has a few), kept in a small LRU.
 */
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { sha256 } from '../sha256';

export interface EntityQuery {
  /** sha256 of the query text. */
  hash: string;
}

export class EntityQueries {
  private readonly known = new LRUCache<string, EntityQuery | false>({ max: 2000 });

  /** The entity fetch `query` is, or undefined when it is anything else (a root field, a mutation). */
  of(query: string): EntityQuery | undefined {
    let found = this.known.get(query);
    if (found === undefined) {
      found = isEntityFetch(query) ? { hash: sha256(query) } : false;
      this.known.set(query, found);
    }
    return found || undefined;
  }
}

function isEntityFetch(query: string): boolean {
  let operation: OperationDefinitionNode | undefined;
  try {
    const document = parse(query);
    if (document.definitions.length !== 1 || document.definitions[0].kind !== Kind.OPERATION_DEFINITION) return false;
    operation = document.definitions[0];
  } catch {
    return false;
  }
  if (operation.operation !== 'query' || operation.selectionSet.selections.length !== 1) return false;
  const root = operation.selectionSet.selections[0];
  if (root.kind !== Kind.FIELD || root.name.value !== '_entities' || root.alias) return false;
  const argument = root.arguments?.[0];
  return root.arguments?.length === 1 && argument?.name.value === 'representations' && argument.value.kind === Kind.VARIABLE && argument.value.name.value === 'representations';
}
