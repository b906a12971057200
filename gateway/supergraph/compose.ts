/** Composition of subgraph SDLs into a supergraph, with the culprit named when a subgraph cannot compose. */
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

export interface SubgraphSource {
  name: string;
  url: string;
  sdl: string;
}

export type Composition =
  | { ok: true; supergraphSdl: string; subgraphs: SubgraphSource[] }
  | { ok: false; errors: string[] };

export function composeSupergraph(subgraphs: SubgraphSource[]): Composition {
  if (subgraphs.length === 0) return { ok: false, errors: ['no subgraphs to compose'] };
  let definitions;
  try {
    definitions = subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) }));
  } catch (error) {
    return { ok: false, errors: [`SDL does not parse: ${(error as Error).message}`] };
  }
  const result = composeServices(definitions);
  if (result.errors) return { ok: false, errors: result.errors.map((error) => error.message) };
  return { ok: true, supergraphSdl: result.supergraphSdl, subgraphs };
}

export interface IncrementalComposition {
  /** Best supergraph reachable from the accepted set, or undefined when nothing composes. */
  composition?: Extract<Composition, { ok: true }>;
  /** Subgraphs left out because adding them broke composition, with the errors they caused. */
  refused: Array<{ name: string; errors: string[] }>;
}

/**
 * Composes `candidates`; when that fails, starts from the subgraphs that composed last time
 * (`trusted`) and adds the others one at a time, refusing each one that breaks composition.
 * So one bad subgraph is refused by name and every other change still lands.
 */
export function composeIncrementally(candidates: SubgraphSource[], trusted: Set<string>): IncrementalComposition {
  const all = composeSupergraph(candidates);
  if (all.ok) return { composition: all, refused: [] };

  const refused: IncrementalComposition['refused'] = [];
  let accepted = candidates.filter((subgraph) => trusted.has(subgraph.name));
  let composition: Composition | undefined = composeSupergraph(accepted);
  if (!composition.ok) {
    // Nothing trusted (composing nothing fails), or even the previously good names fail together
    // now (one of them changed): grow from empty.
    accepted = [];
    composition = undefined;
  }
  for (const subgraph of candidates.filter((c) => !accepted.includes(c))) {
    const attempt = composeSupergraph([...accepted, subgraph]);
    if (attempt.ok) {
      accepted = [...accepted, subgraph];
      composition = attempt;
    } else {
      refused.push({ name: subgraph.name, errors: attempt.errors });
    }
  }
  return { composition: composition?.ok ? composition : undefined, refused };
}
