/**
 * Rubber-band selection: Shift+drag on empty canvas draws a box and selects
 * every node it touches. A press on a node, a port or a link is left alone,
 * and a plain drag still pans.
 */
import type { MamNode } from './schemes.ts';
import type { AnyArea } from './sync.ts';

export interface RubberBandHost {
  nodes(): MamNode[];
  select(ids: string[]): Promise<void>;
}

interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

const onSomething = (e: PointerEvent) =>
  e
    .composedPath()
    .some(
      (t) =>
        t instanceof Element &&
        (t.matches('mam-node, rete-ref, [data-testid="mam-link"], mam-menu') ||
          t.tagName === 'RETE-MINIMAP'),
    );

/** Installs the gesture on the area's container; returns the uninstaller. */
export function rubberBand(area: AnyArea, host: RubberBandHost): () => void {
  const container = area.container;
  let start: { x: number; y: number } | undefined;
  let box: HTMLDivElement | undefined;

  const rectOf = (a: { x: number; y: number }, b: { x: number; y: number }): Rect => ({
    left: Math.min(a.x, b.x),
    top: Math.min(a.y, b.y),
    right: Math.max(a.x, b.x),
    bottom: Math.max(a.y, b.y),
  });
  const local = (e: PointerEvent) => {
    const r = container.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  const move = (e: PointerEvent) => {
    if (!start || !box) return;
    const r = rectOf(start, local(e));
    Object.assign(box.style, {
      left: `${r.left}px`,
      top: `${r.top}px`,
      width: `${r.right - r.left}px`,
      height: `${r.bottom - r.top}px`,
    });
  };
  const up = (e: PointerEvent) => {
    window.removeEventListener('pointermove', move, true);
    window.removeEventListener('pointerup', up, true);
    if (!start) return;
    const r = rectOf(start, local(e));
    start = undefined;
    box?.remove();
    box = undefined;
    // Container pixels to area coordinates.
    const { x, y, k } = area.area.transform;
    const inArea: Rect = {
      left: (r.left - x) / k,
      top: (r.top - y) / k,
      right: (r.right - x) / k,
      bottom: (r.bottom - y) / k,
    };
    const ids = host
      .nodes()
      .filter((n) => {
        const p = area.nodeViews.get(n.id)?.position;
        return (
          !!p &&
          p.x <= inArea.right &&
          p.x + n.width >= inArea.left &&
          p.y <= inArea.bottom &&
          p.y + n.height >= inArea.top
        );
      })
      .map((n) => n.id);
    void host.select(ids);
  };
  const down = (e: PointerEvent) => {
    if (!e.shiftKey || e.button !== 0 || onSomething(e)) return;
    // Ours alone: the area would pan and the node selector would clear.
    e.stopPropagation();
    e.preventDefault();
    start = local(e);
    box = document.createElement('div');
    box.dataset.testid = 'rubber-band';
    Object.assign(box.style, {
      position: 'absolute',
      left: `${start.x}px`,
      top: `${start.y}px`,
      width: '0px',
      height: '0px',
      border: '1px dashed #2563eb',
      background: 'rgba(37, 99, 235, 0.08)',
      pointerEvents: 'none',
      zIndex: '6',
    });
    container.append(box);
    window.addEventListener('pointermove', move, true);
    window.addEventListener('pointerup', up, true);
  };
  container.addEventListener('pointerdown', down, true);
  return () => container.removeEventListener('pointerdown', down, true);
}
