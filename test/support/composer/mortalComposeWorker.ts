/** The real composition worker, which dies when asked to compose a subgraph named "die" (composer tests). */
import './dieOnRequest';
import '../../../gateway/supergraph/composeWorker';
