/**
 * The part of the canvas a person can see: the container less the host's
 * overlays (a drawer, a panel) that lie over one of its edges. Fitting the view
 * and the minimap keep to it.
 */

/** How far each edge of the canvas is covered, in px. */
export interface Insets {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * The insets that overlays over the canvas's edges make. An overlay counts on
 * the edge it reaches (or passes); one in the middle of the canvas, or beside
 * it, covers nothing here.
 */
export function coveredInsets(canvas: Box, overlays: Box[]): Insets {
  const inset: Insets = { top: 0, right: 0, bottom: 0, left: 0 };
  for (const o of overlays) {
    const across = o.left < canvas.right && o.right > canvas.left;
    const along = o.top < canvas.bottom && o.bottom > canvas.top;
    if (!across || !along) continue;
    if (o.right >= canvas.right && o.left > canvas.left)
      inset.right = Math.max(inset.right, canvas.right - o.left);
    else if (o.left <= canvas.left && o.right < canvas.right)
      inset.left = Math.max(inset.left, o.right - canvas.left);
    else if (o.bottom >= canvas.bottom && o.top > canvas.top)
      inset.bottom = Math.max(inset.bottom, canvas.bottom - o.top);
    else if (o.top <= canvas.top && o.bottom < canvas.bottom)
      inset.top = Math.max(inset.top, o.bottom - canvas.top);
  }
  return inset;
}

/** The insets of the visible overlays over an element, from their boxes on screen. */
export function elementInsets(canvas: Element, overlays: Element[]): Insets {
  const boxes = overlays
    .map((el) => el.getBoundingClientRect())
    .filter((r) => r.width > 0 && r.height > 0);
  return coveredInsets(canvas.getBoundingClientRect(), boxes);
}

/**
 * The transform that shows `box` (canvas units) as large as fits in the
 * uncovered part of a `width`×`height` view, with `scale` of it used (the rest
 * is margin), centred there; never above zoom `max`.
 */
export function fitTransform(
  box: { left: number; top: number; width: number; height: number },
  view: { width: number; height: number },
  insets: Insets,
  scale = 0.92,
  max = 1,
): { k: number; x: number; y: number } {
  const w = Math.max(1, view.width - insets.left - insets.right);
  const h = Math.max(1, view.height - insets.top - insets.bottom);
  const k = Math.min(max, (w * scale) / box.width, (h * scale) / box.height);
  return {
    k,
    x: insets.left + w / 2 - (box.left + box.width / 2) * k,
    y: insets.top + h / 2 - (box.top + box.height / 2) * k,
  };
}
