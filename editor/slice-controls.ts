/**
 * The controls the slice view and the volume viewer share: window/level and
 * label-opacity sliders, and the class legend in the fixed class colours.
 */
import { css, html, nothing } from 'lit';
import { classColor, type SliceDisplay } from './slice-pixels.ts';

/** Styles both views share: the host's type, captions, muted text and the legend. */
export const sliceViewStyles = css`
  :host {
    display: block;
    font:
      12px system-ui,
      sans-serif;
    color: #334155;
  }
  figcaption {
    font-weight: 600;
    margin-bottom: 3px;
  }
  .muted {
    color: #64748b;
  }
  .legend {
    display: flex;
    flex-wrap: wrap;
    gap: 4px 12px;
    margin: 6px 0;
  }
  .legend i {
    display: inline-block;
    width: 10px;
    height: 10px;
    border-radius: 2px;
    margin-right: 4px;
    vertical-align: -1px;
  }
`;

/** A slider for one display setting; `testid` names it (`${prefix}-${key}`). */
export function displayInput(
  display: SliceDisplay,
  key: keyof SliceDisplay,
  label: string,
  min: number,
  prefix: string,
  set: (d: SliceDisplay) => void,
) {
  return html`<label
    >${label}
    <input
      type="range"
      min=${min}
      max="1"
      step="0.01"
      data-testid=${`${prefix}-${key}`}
      .value=${String(display[key])}
      @input=${(e: Event) =>
        set({ ...display, [key]: Number((e.target as HTMLInputElement).value) })}
  /></label>`;
}

/** The classes by name in their colours (background left out), dimmed where `present` lacks them. */
export function classLegend(
  classNames: readonly string[],
  present: ReadonlySet<number>,
  absent: string,
  testid: string,
) {
  return html`<div class="legend" data-testid=${testid}>
    ${classNames.map((name, i) =>
      i === 0
        ? nothing
        : html`<span
            style=${present.has(i) ? '' : 'opacity:0.4'}
            title=${present.has(i) ? '' : absent}
            ><i style="background:${classColor(i)}"></i>${name}</span
          >`,
    )}
  </div>`;
}
