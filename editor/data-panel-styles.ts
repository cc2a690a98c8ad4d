/** Styles of the data section of the Train drawer (editor/data-panel.ts). */
import { css } from 'lit';

export const dataPanelStyles = css`
  .data-panel.dragging {
    outline: 2px dashed #2563eb;
    outline-offset: 4px;
  }
  table {
    border-collapse: collapse;
    width: 100%;
    margin: 6px 0;
    font-size: 12px;
  }
  th,
  td {
    text-align: left;
    padding: 2px 6px;
    border-bottom: 1px solid #e2e8f0;
  }
  tr.off td {
    color: #b91c1c;
  }
  input.class-name {
    font: inherit;
    width: 100%;
    box-sizing: border-box;
    border: 1px solid transparent;
    background: transparent;
    padding: 1px 2px;
  }
  input.class-name:hover,
  input.class-name:focus {
    border-color: #94a3b8;
    background: #fff;
  }
  ul.warnings {
    margin: 4px 0;
    padding-left: 18px;
    color: #92400e;
  }
  .notice ul {
    margin: 4px 0;
    padding-left: 18px;
  }
`;
