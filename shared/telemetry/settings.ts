/**
 * Tracing settings from the standard OpenTelemetry variables (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG,
 * OTEL_TRACES_EXPORTER, OTEL_SDK_DISABLED). No endpoint set: tracing is off.
 */
import { ConfigError } from '../errors';

export type SamplerKind =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerKind[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export interface TelemetrySettings {
  /** Where spans go: OTLP over HTTP (protobuf), the full traces URL. */
  tracesUrl: string;
  /** OTEL_SERVICE_NAME; unset: each process names itself (gateway, users, web-bff, ...). */
  serviceName?: string;
  sampler: { kind: SamplerKind; ratio: number };
}

type Env = Record<string, string | undefined>;

export function telemetrySettings(env: Env): TelemetrySettings | undefined {
  const value = (name: string) => env[name]?.trim() || undefined;
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const exporter = value('OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter !== undefined && exporter !== 'otlp')
    throw new ConfigError(`Invalid configuration: OTEL_TRACES_EXPORTER=${JSON.stringify(exporter)}: only otlp or none`);
  const tracesUrl = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? withTracesPath(value('OTEL_EXPORTER_OTLP_ENDPOINT'));
  if (!tracesUrl) return undefined;
  if (!URL.canParse(tracesUrl))
    throw new ConfigError(`Invalid configuration: OTLP endpoint ${JSON.stringify(tracesUrl)} is not a URL`);
  const kind = (value('OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on') as SamplerKind;
  if (!SAMPLERS.includes(kind))
    throw new ConfigError(
      `Invalid configuration: OTEL_TRACES_SAMPLER=${JSON.stringify(kind)}: one of ${SAMPLERS.join(', ')}`,
    );
  const arg = value('OTEL_TRACES_SAMPLER_ARG');
  const ratio = arg === undefined ? 1 : Number(arg);
  if (!(ratio >= 0 && ratio <= 1))
    throw new ConfigError(
      `Invalid configuration: OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(arg)}: a ratio between 0 and 1`,
    );
  return { tracesUrl, serviceName: value('OTEL_SERVICE_NAME'), sampler: { kind, ratio } };
}

/** The spec's rule: OTEL_EXPORTER_OTLP_ENDPOINT is a base URL, traces go to `<base>/v1/traces`. */
function withTracesPath(base: string | undefined): string | undefined {
  return base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`;
}
