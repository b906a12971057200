/** `--print-config`: the effective configuration as JSON, with credentials masked. */
import type { Config } from './index';

const SECRET_KEY = /token|secret|password|credential|api-?key/i;
const SECRET_HEADER = /authorization|cookie|token|secret|password|api-?key/i;
export const MASK = '***';

/** A copy of `value` with secret-named fields and URL passwords replaced by ***. */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return SECRET_KEY.test(key) ? MASK : maskUrlPassword(value);
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, key));
  if (value && typeof value === 'object') {
    // A header rule that inserts a credential ({ name: 'authorization', value: 'Bearer ...' }) is named by its `name`.
    const { name } = value as { name?: unknown };
    const secretValue = typeof name === 'string' && SECRET_HEADER.test(name);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, secretValue && k === 'value' ? MASK : maskSecrets(v, k)]));
  }
  return value;
}

function maskUrlPassword(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(text)) return text;
  try {
    const url = new URL(text);
    if (url.password) url.password = MASK;
    return url.toString();
  } catch {
    return text;
  }
}

export function formatConfig(config: Config): string {
  return JSON.stringify(maskSecrets(config), null, 2) + '\n';
}
