import { serveSubgraph } from '../../shared';
import { catalogSubgraph } from '.';

serveSubgraph(catalogSubgraph);
