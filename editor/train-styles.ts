/** Styles of the Train drawer (its own shadow root; the app's styles.css stays untouched). */
import { css } from 'lit';

/** The drawer itself: where it sits in the app's grid, shown when open. */
const drawerStyles = css`
  /* Over the canvas and the side pane, between the toolbar and the totals bar of the app's grid. */
  :host {
    grid-row: 2;
    grid-column: 2 / 4;
    justify-self: end;
    width: min(580px, 62vw);
    min-height: 0;
    position: relative;
    display: none;
    flex-direction: column;
    background: #fff;
    border-left: 1px solid #cbd5e1;
    box-shadow: -8px 0 24px rgba(15, 23, 42, 0.12);
    z-index: 15;
    font:
      13px system-ui,
      sans-serif;
    color: #0f172a;
  }
  :host([open]) {
    display: flex;
  }
`;

/** The drawer's parts (also the view components inside it, each in its own shadow root). */
export const trainPartStyles = css`
  header {
    display: flex;
    align-items: center;
    gap: 10px;
    padding: 6px 12px;
    background: #f8fafc;
    border-bottom: 1px solid #e2e8f0;
  }
  h2 {
    margin: 0;
    font-size: 12px;
    text-transform: uppercase;
    letter-spacing: 0.05em;
    color: #475569;
  }
  h3 {
    margin: 10px 0 4px;
    font-size: 12px;
    color: #334155;
  }
  h3 small {
    font-weight: 400;
    color: #64748b;
  }
  .busy {
    flex: 1;
    color: #64748b;
    font-size: 12px;
  }
  .close {
    border: none;
    background: none;
    font-size: 20px;
    line-height: 1;
    cursor: pointer;
    color: #475569;
  }
  .body {
    flex: 1;
    overflow: auto;
    padding: 8px 14px 16px;
  }
  section {
    margin-bottom: 8px;
  }
  .row {
    display: flex;
    align-items: center;
    gap: 10px;
    flex-wrap: wrap;
  }
  label {
    color: #334155;
    font-size: 12px;
  }
  select,
  input[type='number'] {
    font: inherit;
    font-size: 12px;
    padding: 3px 5px;
    border: 1px solid #cbd5e1;
    border-radius: 5px;
    background: #fff;
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(4, 1fr);
    gap: 6px 10px;
  }
  .grid label {
    display: flex;
    flex-direction: column;
    gap: 2px;
  }
  .grid label.check {
    flex-direction: row;
    align-items: center;
    gap: 6px;
    padding-top: 14px;
  }
  .grid input[type='number'],
  .grid select {
    width: 100%;
    box-sizing: border-box;
  }
  button {
    font: inherit;
    font-size: 12px;
    padding: 5px 12px;
    border-radius: 6px;
    border: 1px solid #cbd5e1;
    background: #f8fafc;
    color: #0f172a;
    cursor: pointer;
  }
  button:hover:not(:disabled) {
    background: #e2e8f0;
  }
  button:disabled {
    opacity: 0.45;
    cursor: default;
  }
  button.primary {
    background: #2563eb;
    border-color: #1d4ed8;
    color: #fff;
    min-width: 90px;
    font-weight: 600;
  }
  button.primary:hover:not(:disabled) {
    background: #1d4ed8;
  }
  button.stop {
    background: #dc2626;
    border-color: #b91c1c;
  }
  button.stop:hover:not(:disabled) {
    background: #b91c1c;
  }
  .actions {
    display: flex;
    align-items: center;
    gap: 8px;
    flex-wrap: wrap;
  }
  .weights-note {
    color: #475569;
    font-size: 12px;
  }
  .backend {
    color: #166534;
    font-size: 12px;
  }
  .backend.warn,
  .backend-detail.warn {
    color: #92400e;
  }
  .backend-detail {
    margin: 2px 0 6px;
    color: #64748b;
    font-size: 11px;
  }
  .data {
    font-size: 12px;
    color: #334155;
  }
  .tag {
    display: inline-block;
    background: #fef3c7;
    color: #78350f;
    border-radius: 4px;
    padding: 0 6px;
    margin-left: 4px;
  }
  .muted {
    color: #64748b;
    font-size: 11px;
    margin: 4px 0;
  }
  .notice {
    margin: 6px 0;
    padding: 6px 10px;
    border-radius: 6px;
    font-size: 12px;
    background: #eff6ff;
    color: #1e3a8a;
    border-left: 3px solid #3b82f6;
  }
  .notice.error {
    background: #fef2f2;
    color: #7f1d1d;
    border-color: #dc2626;
  }
  .notice pre {
    margin: 4px 0 0;
    font-size: 11px;
    max-height: 120px;
    overflow: auto;
    white-space: pre-wrap;
  }
  .errors {
    padding: 6px 10px;
    border-radius: 6px;
    background: #fef2f2;
    color: #7f1d1d;
    font-size: 12px;
  }
  .errors ul {
    margin: 4px 0;
    padding-left: 18px;
  }
  .errors code {
    color: #991b1b;
  }
  .progress .bar {
    height: 8px;
    border-radius: 4px;
    background: #e2e8f0;
    overflow: hidden;
  }
  .progress .bar div {
    height: 100%;
    background: #2563eb;
    transition: width 0.3s;
  }
  .progress .stats {
    display: flex;
    flex-wrap: wrap;
    gap: 4px 14px;
    margin-top: 4px;
    font-size: 12px;
    color: #334155;
    font-variant-numeric: tabular-nums;
  }
`;

export const trainPanelStyles = [drawerStyles, trainPartStyles];

/** A view component inside the drawer: a block, styled like the drawer's parts. */
export const trainViewStyles = [
  css`
    :host {
      display: block;
    }
  `,
  trainPartStyles,
];
