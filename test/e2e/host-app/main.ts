// A host page that mounts the mam-studio editor app with a catalogue of its
// own: the built-in kinds plus a toy kind (test/helpers/toy-kind.ts). The
// palette, inspector, canvas, share links and PNG export must all know it.
import '../../../editor/styles.css';
import '../../../editor/mam-app.ts';
import { catalogue } from '../../../nodes/index.ts';
import { withToyKind } from '../../helpers/toy-kind.ts';

const app = document.createElement('mam-app');
app.catalogue = withToyKind(catalogue);
document.body.append(app);
