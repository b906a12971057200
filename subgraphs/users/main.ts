import { serveSubgraph } from '../../shared';
import { usersSubgraph } from '.';

serveSubgraph(usersSubgraph);
