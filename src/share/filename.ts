/** A file name for a graph: its title in lower-case ASCII words joined by '-'. */
import type { GraphDoc } from '../graph/types.ts';

export function graphFileName(doc: GraphDoc, extension = 'json'): string {
  const title = doc.metadata?.title ?? '';
  const slug = title
    .replace(/×/g, 'x')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents go, letters stay
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
  return `${slug || 'graph'}.${extension.replace(/^\./, '')}`;
}
