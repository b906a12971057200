/**
 * A subgraph's name, checked once and turned into every identifier the template needs. One rule
 * makes it safe everywhere it goes: an npm package name, a Consul service name (the gateway's
 * allow-list takes letters, digits, `_` and `-`), a file name, and, camel-cased, GraphQL names.
 */
import { UsageError } from '../errors';

export interface SubgraphNames {
  /** As given: `shipping-rates` (package, Consul service, subgraph name). */
  name: string;
  /** `shippingRates`: the start of field names. */
  field: string;
  /** `ShippingRates`: the start of type names. */
  type: string;
}

/** Lower-case words of letters and digits joined by single dashes, starting with a letter. */
const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const MAX_LENGTH = 40;

export function subgraphNames(name: string): SubgraphNames {
  if (name.length > MAX_LENGTH || !NAME.test(name)) {
    throw new UsageError(
      `invalid subgraph name "${name}": use lower-case letters, digits and single dashes, starting with a letter, at most ${MAX_LENGTH} characters (e.g. reviews, shipping-rates)`,
    );
  }
  const words = name.split('-');
  const capitalized = words.map((word) => word[0].toUpperCase() + word.slice(1));
  return { name, field: words[0] + capitalized.slice(1).join(''), type: capitalized.join('') };
}
