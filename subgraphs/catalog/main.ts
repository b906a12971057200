import { serveSubgraph } from '@trellis/kit';
import { catalogSubgraph } from '.';

serveSubgraph(catalogSubgraph);
