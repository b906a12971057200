/**
 * Validates Kubernetes objects against the API's schemas as the `kubernetes-models` package ships them
 * (types, required fields, formats, enums), with no cluster. A separate process, because the package
 * is ESM-only and jest's module system is not: JSON array of objects on stdin, JSON array of
 * `{ kind, name, error? }` on stdout. Run with `node --import tsx`.
 */
import { readFileSync } from 'node:fs';

interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
}

async function validate(object: KubernetesObject): Promise<{ kind: string; name?: string; error?: string }> {
  const result = { kind: `${object.apiVersion}/${object.kind}`, name: object.metadata?.name };
  let model: new (data: unknown) => { validate(): void };
  try {
    const module = (await import(`kubernetes-models/${object.apiVersion}/${object.kind}`)) as Record<string, typeof model>;
    model = module[object.kind];
  } catch {
    return { ...result, error: `no schema for ${object.apiVersion} ${object.kind}` };
  }
  try {
    new model(object).validate();
    return result;
  } catch (error) {
    return { ...result, error: (error as Error).message };
  }
}

async function main(): Promise<void> {
  const objects = JSON.parse(readFileSync(0, 'utf8')) as KubernetesObject[];
  process.stdout.write(JSON.stringify(await Promise.all(objects.map(validate))));
}

void main();
