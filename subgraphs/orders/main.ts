import { serveSubgraph } from '@trellis/kit';
import { ordersSubgraph } from '.';

serveSubgraph(ordersSubgraph);
