// Entry of the editor app.
import './styles.css';
import './mam-app.ts';
