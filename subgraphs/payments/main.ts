import { serveSubgraph } from '@trellis/kit';
import { paymentsSubgraph } from '.';

serveSubgraph(paymentsSubgraph);
