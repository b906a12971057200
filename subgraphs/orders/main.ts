import { serveSubgraph } from '../../shared';
import { ordersSubgraph } from '.';

serveSubgraph(ordersSubgraph);
