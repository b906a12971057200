import { serveSubgraph } from '../../shared';
import { paymentsSubgraph } from '.';

serveSubgraph(paymentsSubgraph);
