/**
 * The node drawn on the canvas: title, id, key parameters, ports with their
 * shapes, parameter and MAC counts, memory-chain badge, and problems in words.
 * Ports come first so socket positions do not move when problems appear.
 */
import { LitElement, css, html, nothing } from 'lit';
import { describeShape, type NodeCategory, type ParamSpec } from '../../graph/node-kind.ts';
import type { ParamValue } from '../../graph/types.ts';
import { formatCount, shortMessage } from '../format.ts';
import type { MamNode } from '../schemes.ts';
import './socket.ts';

export const CATEGORY_COLORS: Record<NodeCategory | 'unknown' | 'memory-unit', string> = {
  input: '#475569',
  embedding: '#0e7490',
  attention: '#1d4ed8',
  'memory-unit': '#c2570c',
  memory: '#b45309',
  resampling: '#6d28d9',
  skip: '#57534e',
  cnn: '#4d7c0f',
  'dual-attention': '#a21caf',
  norm: '#0f766e',
  head: '#be185d',
  output: '#334155',
  unknown: '#991b1b',
};

export function headerColor(node: Pick<MamNode, 'kind'>): string {
  if (!node.kind) return CATEGORY_COLORS.unknown;
  if (node.kind.role === 'memory-unit') return CATEGORY_COLORS['memory-unit'];
  return CATEGORY_COLORS[node.kind.category];
}

const fmtValue = (v: ParamValue | undefined): string =>
  Array.isArray(v) ? `${v.length}` : typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v ?? '?');

/** The few parameters worth reading on the canvas: whole numbers and choices, not rates. */
export function keyParams(specs: readonly ParamSpec[], values: Record<string, ParamValue>): string {
  return specs
    .filter((s) => s.type === 'int' || s.type === 'enum' || s.type === 'string[]')
    .slice(0, 3)
    .map((s) => `${s.name} ${fmtValue(values[s.name])}`)
    .join(' · ');
}

type Emit = (signal: unknown) => void;

/** Node headers are narrow: "Memory-attention unit (window)" reads as "MAM unit (window)". */
export const shortTitle = (title: string): string =>
  title.replace(/^Memory-attention unit/, 'MAM unit');

export class MamNodeElement extends LitElement {
  static override properties = { data: { attribute: false }, emit: { attribute: false } };
  static override styles = css`
    :host {
      display: block;
      font:
        12px/1.35 system-ui,
        sans-serif;
      color: #1f2937;
    }
    .node {
      width: var(--w);
      background: #fff;
      border: 1.5px solid #cbd5e1;
      border-radius: 8px;
      box-shadow: 0 1px 3px rgba(15, 23, 42, 0.18);
      box-sizing: border-box;
      cursor: grab;
      user-select: none;
    }
    .node.selected {
      border-color: #2563eb;
      box-shadow: 0 0 0 3px rgba(37, 99, 235, 0.35);
    }
    .node.errors {
      border-color: #dc2626;
    }
    .node.highlighted {
      box-shadow: 0 0 0 4px rgba(217, 119, 6, 0.55);
    }
    .node.drop {
      box-shadow: 0 0 0 4px rgba(22, 163, 74, 0.7);
    }
    header {
      color: #fff;
      padding: 5px 9px 4px;
      border-radius: 6px 6px 0 0;
      display: flex;
      flex-direction: column;
    }
    .title {
      font-weight: 600;
      font-size: 12.5px;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .id {
      font:
        11px ui-monospace,
        monospace;
      opacity: 0.85;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .keys {
      padding: 3px 9px;
      color: #475569;
      font-size: 11px;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
      border-bottom: 1px solid #eef2f7;
      height: 15px;
    }
    .row {
      display: flex;
      justify-content: space-between;
      align-items: center;
      height: 24px;
    }
    .in,
    .out {
      display: flex;
      align-items: center;
      gap: 2px;
      min-width: 0;
    }
    .in rete-ref {
      margin-left: -11px;
    }
    .out rete-ref {
      margin-right: -11px;
    }
    .port {
      color: #334155;
      white-space: nowrap;
    }
    .shape {
      font:
        11px ui-monospace,
        monospace;
      color: #0f172a;
      background: #f1f5f9;
      border-radius: 3px;
      padding: 0 4px;
      margin-left: 4px;
      white-space: nowrap;
    }
    .memory .shape {
      background: #fef3c7;
    }
    footer {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 8px;
      padding: 4px 9px 6px;
      border-top: 1px solid #eef2f7;
      color: #475569;
      font-size: 11px;
      align-items: center;
    }
    .chain {
      margin-left: auto;
      font-weight: 600;
      font-size: 11px;
      color: #92400e;
      background: #fef3c7;
      border: 1px dashed #d97706;
      border-radius: 10px;
      padding: 0 7px;
      cursor: default;
    }
    .problem {
      margin: 0 6px 6px;
      padding: 3px 6px;
      background: #fef2f2;
      color: #991b1b;
      border-left: 3px solid #dc2626;
      border-radius: 3px;
      font-size: 11px;
      white-space: normal;
      overflow-wrap: anywhere;
    }
  `;

  data!: MamNode;
  emit!: Emit;

  override render() {
    const n = this.data;
    if (!n) return nothing;
    const kind = n.kind;
    const info = n.info;
    const inputs = Object.entries(n.inputs);
    const outputs = Object.entries(n.outputs);
    const rows = Math.max(inputs.length, outputs.length);
    const problems = (info?.issues ?? []).filter((i) => i.severity === 'error');
    const cls = [
      'node',
      n.selected ? 'selected' : '',
      problems.length ? 'errors' : '',
      n.highlighted ? 'highlighted' : '',
      n.dropTarget ? 'drop' : '',
    ].join(' ');
    return html`<div
      class=${cls}
      style="--w:${n.width}px"
      data-node-id=${n.id}
      data-type=${n.doc.type}
      data-testid="mam-node"
    >
      <header style="background:${headerColor(n)}">
        <span class="title" title=${kind?.title ?? ''}
          >${kind ? shortTitle(kind.title) : `Unknown type '${n.doc.type}'`}</span
        >
        <span class="id" title=${n.id}>${n.doc.label ? `${n.doc.label} · ` : ''}${n.id}</span>
      </header>
      <div class="keys">${kind ? keyParams(kind.params, n.doc.params) : 'not computed'}</div>
      ${Array.from({ length: rows }, (_, i) => {
        const [ik, input] = inputs[i] ?? [];
        const [ok, output] = outputs[i] ?? [];
        const shape = ok ? info?.outputs[ok] : undefined;
        return html`<div class="row">
          <div class="in">
            ${
              input
                ? html`<rete-ref
                      data-side="input"
                      data-key=${ik}
                      .data=${{ type: 'socket', side: 'input', key: ik, nodeId: n.id, payload: input.socket }}
                      .emit=${this.emit}
                    ></rete-ref
                    ><span class="port">${input.label}</span>`
                : nothing
            }
          </div>
          <div class="out ${output?.socket.name ?? ''}">
            ${
              output
                ? html`<span class="port">${output.label}</span
                    ><span class="shape" data-testid="shape-${ok}"
                      >${shape ? describeShape(shape) : '?'}</span
                    ><rete-ref
                      data-side="output"
                      data-key=${ok}
                      .data=${{ type: 'socket', side: 'output', key: ok, nodeId: n.id, payload: output.socket }}
                      .emit=${this.emit}
                    ></rete-ref>`
                : nothing
            }
          </div>
        </div>`;
      })}
      <footer>
        <span data-testid="params">${formatCount(info?.params ?? 0)} params</span>
        <span data-testid="macs"
          >${formatCount((info?.macs.linearConv ?? 0) + (info?.macs.attention ?? 0))} MACs</span
        >
        ${
          n.chain
            ? html`<span
                class="chain"
                data-testid="chain"
                title="memory chain ${n.chain.index + 1} (${n.chain.strategy}); hover to highlight it"
                @mouseenter=${() => this.hoverChain(n.chain?.index)}
                @mouseleave=${() => this.hoverChain(undefined)}
                >${n.chain.strategy} · chain ${n.chain.index + 1}</span
              >`
            : kind?.role === 'memory-unit'
              ? html`<span
                  class="chain"
                  data-testid="no-chain"
                  title="no memory link in or out: neither ISTS nor STS; its memory input is 0"
                  >MAM · no memory link</span
                >`
              : nothing
        }
      </footer>
      ${problems.map((p) => html`<div class="problem" data-testid="problem">${shortMessage(p.message)}</div>`)}
    </div>`;
  }

  private hoverChain(index: number | undefined) {
    this.dispatchEvent(
      new CustomEvent('mam-chain-hover', { detail: { index }, bubbles: true, composed: true }),
    );
  }
}

if (!customElements.get('mam-node')) customElements.define('mam-node', MamNodeElement);
