/** The problems panel (click selects the culprit) and the totals bar. */
import { LitElement, css, html, nothing } from 'lit';
import type { Analysis } from '../src/graph/infer.ts';
import type { GraphDoc, GraphIssue } from '../src/graph/types.ts';
import { formatCount, shortMessage } from '../src/rete/index.ts';

export class MamProblems extends LitElement {
  static override properties = { analysis: { attribute: false }, doc: { attribute: false } };
  static override styles = css`
    :host {
      display: block;
      font:
        12px system-ui,
        sans-serif;
      overflow: auto;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0 8px 8px;
    }
    li {
      padding: 5px 8px;
      margin: 3px 0;
      border-radius: 5px;
      cursor: pointer;
      border-left: 3px solid #dc2626;
      background: #fef2f2;
      color: #7f1d1d;
      overflow-wrap: anywhere;
    }
    li.warning {
      border-color: #d97706;
      background: #fffbeb;
      color: #78350f;
    }
    li:hover {
      filter: brightness(0.96);
    }
    .where {
      font-family: ui-monospace, monospace;
      opacity: 0.8;
    }
    .ok {
      color: #166534;
      padding: 4px 10px;
    }
  `;

  analysis: Analysis | undefined;
  doc: GraphDoc | undefined;

  override render() {
    const issues = [...(this.analysis?.issues ?? [])].sort(
      (a, b) => Number(a.severity === 'warning') - Number(b.severity === 'warning'),
    );
    if (!issues.length)
      return html`<div class="ok" data-testid="no-problems">No problems: every shape fits.</div>`;
    return html`<ul>
      ${issues.map(
        (i) =>
          html`<li
            class=${i.severity}
            data-testid="problem-item"
            @click=${() => this.pick(i)}
            title=${`${i.message}\n(click to select the node)`}
          >
            ${this.where(i)}${this.culprit(i) ? shortMessage(i.message) : i.message}
          </li>`,
      )}
    </ul>`;
  }

  private where(i: GraphIssue) {
    const node = this.culprit(i);
    return node ? html`<span class="where">${node}</span> · ` : nothing;
  }

  private culprit(i: GraphIssue): string | undefined {
    if (i.node) return i.node;
    if (i.link !== undefined) return this.doc?.links[i.link]?.to.node;
    return undefined;
  }

  private pick(i: GraphIssue) {
    const node = this.culprit(i);
    if (node)
      this.dispatchEvent(
        new CustomEvent('problem-select', { detail: { node }, bubbles: true, composed: true }),
      );
  }
}

export class MamTotals extends LitElement {
  static override properties = { analysis: { attribute: false }, doc: { attribute: false } };
  static override styles = css`
    :host {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 14px;
      align-items: center;
      font:
        12px system-ui,
        sans-serif;
      color: #334155;
      padding: 6px 12px;
    }
    b {
      color: #0f172a;
      font-variant-numeric: tabular-nums;
    }
    .chain {
      border: 1px dashed #d97706;
      background: #fef3c7;
      color: #92400e;
      border-radius: 10px;
      padding: 0 7px;
      margin-left: 3px;
    }
    .bad {
      color: #b91c1c;
    }
    .good {
      color: #166534;
    }
  `;

  analysis: Analysis | undefined;
  doc: GraphDoc | undefined;

  override render() {
    const a = this.analysis;
    if (!a) return nothing;
    const errors = a.issues.filter((i) => i.severity === 'error').length;
    const warnings = a.issues.length - errors;
    const shape = (s: number[]) => s.slice(1).join('×');
    return html`<span data-testid="total-params"
        >Params <b>${a.params.toLocaleString('en')}</b></span
      >
      <span data-testid="total-macs"
        >MACs Linear/Conv <b>${formatCount(a.macs.linearConv)}</b> + attention
        <b>${formatCount(a.macs.attention)}</b></span
      >
      <span data-testid="total-chains"
        >Memory chains <b>${a.chains.length}</b>${a.chains.map(
          (c, i) =>
            html`<span class="chain" title=${c.units.join(', ')}
              >${i + 1}: ${c.strategy} · ${c.units.length}
              unit${c.units.length === 1 ? '' : 's'}</span
            >`,
        )}</span
      >
      ${a.inputs.length ? html`<span>In <b>${a.inputs.map((p) => shape(p.shape)).join(', ')}</b></span>` : nothing}
      ${a.outputs.length ? html`<span>Out <b>${a.outputs.map((p) => shape(p.shape)).join(', ')}</b></span>` : nothing}
      <span
        >Nodes <b>${this.doc?.nodes.length ?? 0}</b> · links
        <b>${this.doc?.links.length ?? 0}</b></span
      >
      <span data-testid="total-errors" class=${errors ? 'bad' : 'good'}
        >${errors ? html`<b class="bad">${errors}</b> error${errors > 1 ? 's' : ''}` : 'no errors'}${
          warnings ? html`, ${warnings} warning${warnings > 1 ? 's' : ''}` : nothing
        }</span
      >`;
  }
}

customElements.define('mam-problems', MamProblems);
customElements.define('mam-totals', MamTotals);
