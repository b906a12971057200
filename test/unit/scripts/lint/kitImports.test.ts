/** The lint rule that keeps the kit behind its entry points (scripts/lint/kitImports.js), on the repo's own layout. */
import path from 'node:path';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import kitImports from '../../../../scripts/lint/kitImports';

const root = '/repo';
const options = [{ root }];
const at = (file: string) => path.join(root, file);
const tester = new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' } });

tester.run('trellis/kit-imports', kitImports, {
  valid: [
    // The kit itself imports its modules by relative paths.
    { code: "import { createLogger } from '../logging';", filename: at('shared/subgraph/serve.ts'), options },
    // Subgraphs and BFFs: the documented entry points.
    { code: "import { createSubgraph, gql } from '@trellis/kit';", filename: at('subgraphs/users/index.ts'), options },
    { code: "import { SagaRefusal, type SagaHandler } from '@trellis/kit/saga';", filename: at('subgraphs/payments/ledger.ts'), options },
    { code: "import { startTestSubgraph } from '@trellis/kit/testing';", filename: at('subgraphs/users/users.test.ts'), options },
    { code: "import { listen } from '@trellis/kit/bff';", filename: at('bff/shared/server.ts'), options },
    // bff/shared is the BFFs' own folder, not the kit.
    { code: "import { GatewayClient } from '../shared/gatewayClient';", filename: at('bff/web/orders.ts'), options },
    { code: "jest.mock('../../../../bff/shared/serve');", filename: at('test/unit/bff/shared/app.test.ts'), options },
    // The gateway, scripts and tests may also use the internal entry points.
    { code: "import { DevHubServer } from '@trellis/kit/internal';", filename: at('gateway/main.ts'), options },
    { code: "import { MeasureCache } from '@trellis/kit/internal/limits/measureCache';", filename: at('test/unit/shared/limits/measureCache.test.ts'), options },
    // Other packages and folders are none of the rule's business.
    { code: "import { parse } from 'graphql'; import { x } from './shared/x';", filename: at('gateway/planning/index.ts'), options },
  ],
  invalid: [
    // A relative path into shared/ from the gateway: fixed to the internal module it names.
    {
      code: "import { createBreaker } from '../../shared/resilience';",
      filename: at('gateway/datasource/guard.ts'),
      options,
      errors: [{ messageId: 'relative', data: { suggestion: '@trellis/kit/internal/resilience' } }],
      output: "import { createBreaker } from '@trellis/kit/internal/resilience';",
    },
    // A single file of a module, from a test of the kit's internals.
    {
      code: "import { tokenLimitError } from \"../../../../shared/limits/tokenLimit\";",
      filename: at('test/unit/shared/limits/tokenLimit.test.ts'),
      options,
      errors: [{ messageId: 'relative' }],
      output: "import { tokenLimitError } from \"@trellis/kit/internal/limits/tokenLimit\";",
    },
    // The kit's index, and its saga and testing entries, by path: fixed to the entry, from anywhere.
    {
      code: "import { gql } from '../../shared';\nimport type { SagaDefinition } from '../../shared/saga';\nexport { ManualClock } from '../../shared/testing/index';",
      filename: at('subgraphs/sagas/index.ts'),
      options,
      errors: [{ messageId: 'relative' }, { messageId: 'relative' }, { messageId: 'relative' }],
      output: "import { gql } from '@trellis/kit';\nimport type { SagaDefinition } from '@trellis/kit/saga';\nexport { ManualClock } from '@trellis/kit/testing';",
    },
    // From a subgraph or BFF, an internal module by path has no single documented entry: reported, not fixed.
    {
      code: "import type { VersionedValue } from '../../shared/state';",
      filename: at('subgraphs/orders/orderBook.ts'),
      options,
      errors: [{ messageId: 'relative', data: { suggestion: "@trellis/kit' or '@trellis/kit/saga' or '@trellis/kit/testing' or '@trellis/kit/bff" } }],
      output: null,
    },
    // Subgraphs and BFFs: the internal entry points, even through the package.
    {
      code: "import { DevHubServer } from '@trellis/kit/internal';\nimport { listen } from '@trellis/kit/internal/http';",
      filename: at('bff/shared/server.ts'),
      options,
      errors: [
        { messageId: 'undocumented', data: { source: '@trellis/kit/internal' } },
        { messageId: 'undocumented', data: { source: '@trellis/kit/internal/http' } },
      ],
      output: null,
    },
    // require, jest.mock, dynamic and type-level imports are imports too.
    {
      code: "jest.mock('../../../../shared/lifecycle');\nconst m = require('../../../../shared/logging');\nvoid import('../../../../shared/saga');\ntype T = import('../../../../shared/errors').TrellisError;",
      filename: at('test/unit/bff/shared/serve.test.ts'),
      options,
      errors: [{ messageId: 'relative' }, { messageId: 'relative' }, { messageId: 'relative' }, { messageId: 'relative' }],
      output:
        "jest.mock('@trellis/kit/internal/lifecycle');\nconst m = require('@trellis/kit/internal/logging');\nvoid import('@trellis/kit/saga');\ntype T = import('@trellis/kit/internal/errors').TrellisError;",
    },
  ],
});
