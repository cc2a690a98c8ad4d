/** Opening graph files (JSON or PNG carrying a graph) and offering files for download. */
import { loadGraph } from '../src/graph/load.ts';
import type { Catalogue } from '../src/graph/node-kind.ts';
import type { GraphDoc, GraphIssue } from '../src/graph/types.ts';
import { loadGraphFromPng } from '../src/share/index.ts';

export type OpenResult =
  | { ok: true; doc: GraphDoc; issues: GraphIssue[]; source: string }
  | { ok: false; issues: GraphIssue[]; source: string };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

/**
 * Reads a dropped or chosen file with the node kinds of `catalogue`. Whatever
 * fails comes back as issues, never as an exception.
 */
export async function readGraphFile(file: File, catalogue: Catalogue): Promise<OpenResult> {
  const source = file.name || 'the file';
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
      const r = loadGraphFromPng(bytes, catalogue);
      if (!r.ok)
        return {
          ok: false,
          source,
          issues: [{ path: '$', severity: 'error', message: r.message }],
        };
      return { ok: true, doc: r.graph, issues: r.issues, source };
    }
    const r = loadGraph(new TextDecoder().decode(bytes), catalogue);
    return r.ok
      ? { ok: true, doc: r.graph, issues: r.issues, source }
      : { ok: false, issues: r.issues, source };
  } catch (e) {
    return {
      ok: false,
      source,
      issues: [
        {
          path: '$',
          severity: 'error',
          message: `could not read the file: ${(e as Error).message}`,
        },
      ],
    };
  }
}

export function download(name: string, data: Blob): void {
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
