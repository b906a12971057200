/**
 * Versions of saga definitions. A version is a digest of what decides a saga's route: its name
 * and, in order, each step's name, participant, command and compensation. Timeouts, retry
 * policies and payload builders are left out: the first two change how patiently a route is
 * walked, not which route, and a payload builder is a function, whose source text is no stable
 * identity (a build or a minifier rewrites it, a closure's captured values are invisible). A
 * change to a payload builder alone that needs a new version says so with a new `version` label.
 *
 * An orchestrator is given every version it must drive; each saga is driven with the version it
 * started with (its record keeps the digest), new sagas start on the newest (the last given for
 * a name), and a record of a version this orchestrator lacks is parked (parking.ts), not guessed.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, NotFoundError, TrellisError } from '../errors';
import type { SagaDefinition, SagaRecord } from './types';

/** Why a saga cannot be driven by this orchestrator. */
export type ParkReason = 'unknown-version' | 'unknown-definition' | 'unreadable';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDefinition = SagaDefinition<any>;

export type Resolution = { definition: AnyDefinition } | { parked: ParkReason };

const digests = new WeakMap<AnyDefinition, string>();

/** The digest of a definition's route: the same steps in the same order give the same digest in every process. */
export function versionOf(definition: AnyDefinition): string {
  let digest = digests.get(definition);
  if (digest === undefined) {
    const route = {
      name: definition.name,
      label: definition.version ?? null,
      steps: definition.steps.map((step) => [step.name, step.participant, step.command, step.compensation ?? null]),
    };
    digest = createHash('sha256').update(JSON.stringify(route)).digest('base64url').slice(0, 22);
    digests.set(definition, digest);
  }
  return digest;
}

/** The saga's version as a person reads it: its label and digest, or the digest alone. */
export function versionName(record: Pick<SagaRecord, 'version' | 'versionLabel'>): string {
  if (record.version === undefined) return 'unversioned';
  return record.versionLabel ? `${record.versionLabel} (${record.version})` : record.version;
}

/** Every version of every definition an orchestrator was given. */
export class DefinitionVersions {
  private readonly byName = new Map<string, Map<string, AnyDefinition>>();
  private readonly newestByName = new Map<string, AnyDefinition>();

  constructor(definitions: readonly AnyDefinition[]) {
    for (const definition of definitions) {
      const versions = this.byName.get(definition.name) ?? new Map<string, AnyDefinition>();
      const digest = versionOf(definition);
      const sameLabel = [...versions.values()].find((other) => definition.version !== undefined && other.version === definition.version && versionOf(other) !== digest);
      if (sameLabel) {
        throw new TrellisError(ErrorCode.CONFIG_INVALID, `saga ${definition.name}: two definitions labelled version ${definition.version} have different steps; give the new one its own label`);
      }
      versions.set(digest, definition);
      this.byName.set(definition.name, versions);
      this.newestByName.set(definition.name, definition);
    }
  }

  /** The version new sagas of `name` start on: the last one given. */
  newest(name: string): AnyDefinition {
    const definition = this.newestByName.get(name);
    if (!definition) throw new NotFoundError(`no saga definition named ${name}`);
    return definition;
  }

  /** The definition that drives `record`: its own version; the newest for a record written before versions. */
  forRecord(record: Pick<SagaRecord, 'definition' | 'version'>): Resolution {
    const versions = this.byName.get(record.definition);
    if (!versions) return { parked: 'unknown-definition' };
    if (record.version === undefined) return { definition: this.newest(record.definition) };
    const definition = versions.get(record.version);
    return definition ? { definition } : { parked: 'unknown-version' };
  }

  /** Every version given, of every definition. */
  all(): AnyDefinition[] {
    return [...this.byName.values()].flatMap((versions) => [...versions.values()]);
  }
}
