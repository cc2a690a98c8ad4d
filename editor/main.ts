// Entry of the editor app.
import './styles.css';
import './mam-app.ts';
import { isolateWithServiceWorker } from './isolation.ts';

if (import.meta.env.PROD) void isolateWithServiceWorker();
