/**
 * The inspector: the selected node's parameters with their bounds, checked
 * as you type (validateParams); a valid value is committed as one command
 * when the field is left or Enter is pressed. Below: its shapes and counts.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { NodeInfo } from '../src/graph/infer.ts';
import {
  describeShape,
  type Catalogue,
  type ParamSpec,
  type Shape,
} from '../src/graph/node-kind.ts';
import type { NodeDoc, ParamValue } from '../src/graph/types.ts';
import { validateParams } from '../src/graph/validate.ts';
import { formatCount, shortMessage } from '../src/rete/index.ts';

export interface ParamChangeDetail {
  id: string;
  params: Record<string, ParamValue>;
}

/** A shape in words; a volume's names its axes, so depth is not mistaken for channels. */
function withAxes(s: Shape): string {
  const dims = s.kind === 'image' || s.kind === 'mask' ? s.spatial : 'grid' in s ? s.grid : [];
  if (dims.length !== 3) return describeShape(s);
  return `${describeShape(s)} (${s.kind === 'mask' ? 'D×H×W' : 'D×H×W×C'})`;
}

export class MamInspector extends LitElement {
  static override properties = {
    node: { attribute: false },
    index: { attribute: false },
    info: { attribute: false },
    count: { attribute: false },
    catalogue: { attribute: false },
    drafts: { state: true },
  };
  static override styles = css`
    :host {
      display: block;
      font:
        13px system-ui,
        sans-serif;
      padding: 10px 12px;
      overflow: auto;
    }
    h2 {
      font-size: 14px;
      margin: 0 0 2px;
    }
    .id {
      font:
        12px ui-monospace,
        monospace;
      color: #475569;
      word-break: break-all;
    }
    .desc {
      color: #475569;
      font-size: 12px;
      margin: 6px 0 10px;
    }
    label {
      display: grid;
      grid-template-columns: 96px 1fr;
      align-items: center;
      gap: 6px;
      margin: 6px 0;
    }
    .name {
      color: #334155;
    }
    input,
    select,
    textarea {
      font: inherit;
      padding: 3px 6px;
      border: 1px solid #cbd5e1;
      border-radius: 5px;
      min-width: 0;
    }
    input[type='checkbox'] {
      justify-self: start;
    }
    .bad {
      border-color: #dc2626;
      background: #fef2f2;
    }
    .err {
      grid-column: 1 / -1;
      color: #b91c1c;
      font-size: 12px;
      margin-top: -2px;
    }
    .hint {
      grid-column: 2;
      color: #64748b;
      font-size: 11px;
      margin-top: -4px;
    }
    table {
      width: 100%;
      border-collapse: collapse;
      font-size: 12px;
      margin-top: 10px;
    }
    td {
      padding: 2px 0;
      vertical-align: top;
    }
    td:last-child {
      text-align: right;
      font-family: ui-monospace, monospace;
    }
    .empty {
      color: #64748b;
    }
    .problem {
      color: #991b1b;
      background: #fef2f2;
      border-left: 3px solid #dc2626;
      padding: 3px 6px;
      margin: 6px 0;
      font-size: 12px;
    }
  `;

  node: NodeDoc | undefined;
  index = 0;
  info: NodeInfo | undefined;
  count = 0;
  /** The node kinds the app knows (its catalogue). */
  catalogue: Catalogue = new Map();
  /** Field text being typed, with its problem, before it is committed. */
  drafts: Record<string, { text: string; error?: string }> = {};
  private draftsFor = '';

  override willUpdate() {
    const key = this.node ? `${this.node.id}|${JSON.stringify(this.node.params)}` : '';
    if (key !== this.draftsFor) {
      this.draftsFor = key;
      this.drafts = {};
    }
  }

  override render() {
    if (this.count > 1)
      return html`<p class="empty">
        ${this.count} nodes selected. Delete, copy or drag them together.
      </p>`;
    const node = this.node;
    if (!node) return html`<p class="empty">Select a node to see and edit its parameters.</p>`;
    const kind = this.catalogue.get(node.type);
    if (!kind)
      return html`<h2>Unknown type '${node.type}'</h2>
        <div class="id">${node.id}</div>`;
    const info = this.info;
    return html`<h2 data-testid="inspector-title">${kind.title}</h2>
      <div class="id" data-testid="inspector-id">${node.id}</div>
      <div class="desc">${kind.description}</div>
      <label
        ><span class="name">Label</span
        ><input
          data-committed=${node.label ?? ''}
          .value=${node.label ?? ''}
          placeholder="(shows the id)"
          @change=${(e: Event) => this.fire('label-change', { id: node.id, label: (e.target as HTMLInputElement).value || undefined })}
      /></label>
      ${kind.params.map((p) => this.field(node, p))} ${info ? this.facts(info) : nothing}`;
  }

  private field(node: NodeDoc, spec: ParamSpec) {
    const value = node.params[spec.name];
    const draft = this.drafts[spec.name];
    const bounds =
      spec.min !== undefined || spec.max !== undefined
        ? `${spec.min ?? '−∞'} … ${spec.max ?? '∞'}`
        : '';
    const help = [bounds, spec.help].filter(Boolean).join(' · ');
    let control;
    switch (spec.type) {
      case 'bool':
        control = html`<input
          type="checkbox"
          data-param=${spec.name}
          data-committed=""
          .checked=${value === true}
          @change=${(e: Event) => this.commit(node, spec, (e.target as HTMLInputElement).checked)}
        />`;
        break;
      case 'enum':
        control = html`<select
          data-param=${spec.name}
          data-committed=${String(value ?? '')}
          @change=${(e: Event) => this.commit(node, spec, (e.target as HTMLSelectElement).value)}
        >
          ${(spec.options ?? []).map((o) => html`<option value=${o} ?selected=${o === value}>${o}</option>`)}
        </select>`;
        break;
      default: {
        const committed = Array.isArray(value) ? value.join(', ') : String(value ?? '');
        const text = draft?.text ?? committed;
        control = html`<input
          data-param=${spec.name}
          data-committed=${committed}
          class=${draft?.error ? 'bad' : ''}
          type=${spec.type === 'int' || spec.type === 'float' ? 'number' : 'text'}
          step=${spec.type === 'int' ? '1' : 'any'}
          min=${spec.min ?? ''}
          max=${spec.max ?? ''}
          .value=${text}
          @input=${(e: Event) => this.check(node, spec, (e.target as HTMLInputElement).value)}
          @change=${(e: Event) => this.commitText(node, spec, (e.target as HTMLInputElement).value)}
          @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
        />`;
      }
    }
    return html`<label title=${spec.help ?? ''}
      ><span class="name">${spec.label}</span>${control}
      ${draft?.error ? html`<span class="err" data-testid="param-error">${draft.error}</span>` : nothing}
      ${help && !draft?.error ? html`<span class="hint">${help}</span>` : nothing}
    </label>`;
  }

  private parse(spec: ParamSpec, text: string): ParamValue {
    if (spec.type === 'int' || spec.type === 'float')
      return text.trim() === '' ? NaN : Number(text);
    if (spec.type === 'string[]')
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    return text;
  }

  private problem(node: NodeDoc, spec: ParamSpec, v: ParamValue): string | undefined {
    const kind = this.catalogue.get(node.type);
    if (!kind) return undefined;
    const candidate: NodeDoc = { ...node, params: { ...node.params, [spec.name]: v } };
    const issue = validateParams(candidate, this.index, kind).find(
      (i) => i.severity === 'error' && i.path.endsWith(`.params.${spec.name}`),
    );
    return issue ? shortMessage(issue.message) : undefined;
  }

  private check(node: NodeDoc, spec: ParamSpec, text: string) {
    this.drafts = {
      ...this.drafts,
      [spec.name]: { text, error: this.problem(node, spec, this.parse(spec, text)) },
    };
  }

  private commitText(node: NodeDoc, spec: ParamSpec, text: string) {
    const v = this.parse(spec, text);
    const error = this.problem(node, spec, v);
    if (error) {
      this.drafts = { ...this.drafts, [spec.name]: { text, error } };
      return;
    }
    this.commit(node, spec, v);
  }

  private commit(node: NodeDoc, spec: ParamSpec, v: ParamValue) {
    if (JSON.stringify(node.params[spec.name]) === JSON.stringify(v)) return;
    this.fire('param-change', { id: node.id, params: { [spec.name]: v } });
  }

  private fire(name: string, detail: unknown) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private facts(info: NodeInfo) {
    const rows: [string, string][] = [];
    for (const [port, s] of Object.entries(info.inputs))
      if (s) rows.push([`in: ${port}`, withAxes(s)]);
    for (const [port, s] of Object.entries(info.outputs)) rows.push([`out: ${port}`, withAxes(s)]);
    rows.push(['parameters', info.params.toLocaleString('en')]);
    rows.push(['MACs Linear/Conv', formatCount(info.macs.linearConv)]);
    rows.push(['MACs attention', formatCount(info.macs.attention)]);
    rows.push(['scope', info.scope]);
    if (info.kind?.trainableOn) rows.push(['trains on', info.kind.trainableOn.join(', ')]);
    const problems = info.issues.filter((i) => i.severity === 'error');
    return html`<table>
        ${rows.map(
          ([k, v]) =>
            html`<tr>
              <td>${k}</td>
              <td>${v}</td>
            </tr>`,
        )}
      </table>
      ${problems.map((p) => html`<div class="problem">${shortMessage(p.message)}</div>`)}`;
  }
}

customElements.define('mam-inspector', MamInspector);
