/**
 * Apollo Gateway sends its own usage metrics to Apollo (an OTLP exporter to
 * usage-reporting.api.apollographql.com, after probing AWS, GCP, Azure and Alibaba metadata
 * servers) unless APOLLO_TELEMETRY_DISABLED is true. A Trellis gateway keeps it off unless the
 * operator opts in with APOLLO_TELEMETRY_DISABLED=false.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGateway } from '../../support/inProcess';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { typeDefs as usersSdl } from '../../../subgraphs/users';

// The module Apollo Gateway's constructor calls to make the exporter (read at call time, so a spy sees it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const apolloTelemetry = require('@apollo/gateway/dist/utilities/opentelemetry') as { createDataCollectionExporter: () => { shutdown(): Promise<void> } };

describe("Apollo Gateway's usage metrics to Apollo", () => {
  let supergraphPath: string;
  const exporter = jest.spyOn(apolloTelemetry, 'createDataCollectionExporter').mockImplementation(() => ({ shutdown: async () => undefined }));

  beforeAll(() => {
    const composed = composeSupergraph([{ name: 'users', sdl: usersSdl, url: 'http://127.0.0.1:9/graphql' }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-telemetry-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
  });
  afterEach(() => exporter.mockClear());
  afterAll(() => exporter.mockRestore());

  it('are off by default: no exporter is made', async () => {
    const gateway = await startGateway({ ADMIN_PORT: '0', SUPERGRAPH_PATH: supergraphPath });
    try {
      expect(exporter).not.toHaveBeenCalled();
    } finally {
      await gateway.stop();
    }
  });

  it('are sent when the operator opts in with APOLLO_TELEMETRY_DISABLED=false', async () => {
    const gateway = await startGateway({ ADMIN_PORT: '0', SUPERGRAPH_PATH: supergraphPath, APOLLO_TELEMETRY_DISABLED: 'false' });
    try {
      expect(exporter).toHaveBeenCalledTimes(1);
    } finally {
      await gateway.stop();
    }
  });
});
