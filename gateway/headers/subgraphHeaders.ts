/**
 * Applies HEADER_RULES: which of the caller's headers each subgraph receives, renamed, defaulted,
 * removed or inserted, always with the request's correlation id. Only named headers are read from
 * the caller, so a header no rule names never leaves the gateway.
 */
import type { HeaderRules } from '@trellis/kit/internal';
import { CORRELATION_ID_HEADER } from '@trellis/kit';
import type { HeaderReader } from '../context';

export class SubgraphHeaders {
  /** The caller's headers some rule propagates (lower-case names), read once per request. */
  readonly incoming: readonly string[];

  constructor(private readonly rules: HeaderRules) {
    const names = new Set<string>();
    for (const set of [rules.all, ...Object.values(rules.subgraphs)]) {
      for (const rule of set.request) if ('propagate' in rule) names.add(rule.propagate.named);
    }
    this.incoming = [...names];
  }

  /** The caller's headers that any rule may forward (the request context keeps these). */
  capture(header: HeaderReader): Record<string, string> {
    const captured: Record<string, string> = {};
    for (const name of this.incoming) {
      const value = header(name);
      if (value) captured[name] = value;
    }
    return captured;
  }

  /** The headers one call to `subgraph` carries, from the captured caller headers. */
  forSubgraph(subgraph: string, captured: Readonly<Record<string, string>>, correlationId?: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const rule of [...this.rules.all.request, ...(this.rules.subgraphs[subgraph]?.request ?? [])]) {
      if ('propagate' in rule) {
        const { named, rename, default: fallback } = rule.propagate;
        const value = captured[named] ?? fallback;
        if (value !== undefined) out[rename ?? named] = value;
      } else if ('remove' in rule) {
        delete out[rule.remove.named];
      } else {
        out[rule.insert.name] = rule.insert.value;
      }
    }
    if (correlationId) out[CORRELATION_ID_HEADER] = correlationId;
    return out;
  }
}
