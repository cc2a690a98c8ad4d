/**
 * The Train panel's weights section: Export, Export for PyTorch, Import… and
 * Re-initialise as `weights-export`, `weights-export-torch`, `weights-import` (the chosen File) and `weights-reinit`
 * events, the outcome of the last of them, and what the weights are.
 */
import { LitElement, html, nothing } from 'lit';
import { renderNotice, type Notice } from './train-notice.ts';
import { trainViewStyles } from './train-styles.ts';
import type { WeightsSummary } from './worker/api.ts';

export class TrainWeightsView extends LitElement {
  static override properties = {
    weights: { attribute: false },
    notice: { attribute: false },
    disabled: { type: Boolean },
  };
  static override styles = trainViewStyles;

  weights: WeightsSummary | undefined;
  notice: Notice | undefined;
  disabled = false;

  private fire(type: string, detail?: File) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  override render() {
    const w = this.weights;
    const off = this.disabled || !w;
    return html`<section>
      <h3>Weights</h3>
      <div class="row">
        <button
          data-testid="weights-export"
          ?disabled=${off}
          @click=${() => this.fire('weights-export')}
        >
          Export .safetensors
        </button>
        <button
          data-testid="weights-export-torch"
          ?disabled=${off}
          title="A zip that trains this graph from these weights with PyTorch DDP (torchrun): graph, weights, train.sh, README"
          @click=${() => this.fire('weights-export-torch')}
        >
          Export for PyTorch
        </button>
        <button
          data-testid="weights-import"
          ?disabled=${off}
          title="Our .safetensors, or a PyTorch state dict saved as safetensors"
          @click=${() => this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')!.click()}
        >
          Import…
        </button>
        <button
          data-testid="weights-reinit"
          ?disabled=${off}
          @click=${() => this.fire('weights-reinit')}
        >
          Re-initialise
        </button>
        <input
          type="file"
          hidden
          accept=".safetensors"
          data-testid="weights-file"
          @change=${(e: Event) => {
            const input = e.target as HTMLInputElement;
            const f = input.files?.[0];
            input.value = '';
            if (f) this.fire('weights-import', f);
          }}
        />
      </div>
      ${renderNotice(this.notice, 'weights-notice')}
      ${
        w
          ? html`<p class="muted" data-testid="weights-summary">
              ${w.tensors} tensors, ${w.parameters.toLocaleString('en-US')} parameters; ${w.origin}.
            </p>`
          : nothing
      }
    </section>`;
  }
}

customElements.define('mam-train-weights', TrainWeightsView);

declare global {
  interface HTMLElementTagNameMap {
    'mam-train-weights': TrainWeightsView;
  }
}
