/**
 * Apollo Gateway decides whether to send its usage metrics to Apollo from the environment alone
 * (APOLLO_TELEMETRY_DISABLED, read when a gateway is constructed), not from an option. The
 * config module owns the environment, so this is where Trellis writes its decision
 * (`config.gateway.apolloTelemetry`, off unless the operator opted in).
 */
export function applyApolloTelemetry(enabled: boolean, env: NodeJS.ProcessEnv = process.env): void {
  env.APOLLO_TELEMETRY_DISABLED = enabled ? 'false' : 'true';
}
