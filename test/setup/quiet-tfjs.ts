// Keeps tfjs's "install tfjs-node" banner out of the test logs, as the `mam` command does.
import { quietTfjsInNode } from '../../src/backend/quiet.ts';

quietTfjsInNode();
