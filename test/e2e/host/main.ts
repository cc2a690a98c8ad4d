// A host application that is not our editor: it owns the Rete editor and
// area, mounts the mam-studio plugin from its package export, and only
// listens to the plugin's events.
import { NodeEditor } from 'rete';
import { AreaPlugin } from 'rete-area-plugin';
import { installMamStudio, type MamStudio, type Schemes } from 'mam-studio/rete';
import type { GraphDoc } from '../../../src/graph/types.ts';

declare global {
  interface Window {
    __host?: { events: string[]; mam: MamStudio; ready: boolean };
  }
}

const log = document.getElementById('log') as HTMLElement;
const events: string[] = [];
const note = (line: string) => {
  events.push(line);
  log.textContent = events.join('\n');
};

const container = document.getElementById('rete') as HTMLElement;
const editor = new NodeEditor<Schemes>();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const area = new AreaPlugin<Schemes, any>(container);
editor.use(area);

const doc = (await (await fetch('/presets/swin-unet-lite.json')).json()) as GraphDoc;
const mam = installMamStudio(editor, area, { doc });
window.__host = { events, mam, ready: false };
mam.on('change', ({ label, analysis }) =>
  note(
    `change: ${label} · params ${analysis.params} · chains [${analysis.chains.map((c) => c.strategy).join(', ')}] · errors ${analysis.issues.filter((i) => i.severity === 'error').length}`,
  ),
);
mam.on('hint', ({ message, level }) => note(`hint (${level}): ${message}`));
mam.on('selection', (ids) => note(`selection: ${ids.join(', ') || 'none'}`));
await mam.whenIdle();
await mam.zoomToFit(undefined, 0.6);
note(
  `ready: ${editor.getNodes().length} nodes, ${editor.getConnections().length} links, params ${mam.getAnalysis().params}`,
);
window.__host.ready = true;
