/** The Train panel's progress line: a bar, the step, loss, rate, speed, ETA and the last save. */
import { LitElement, html, nothing } from 'lit';
import { formatDuration, formatNumber } from './train-format.ts';
import type { Persisted, Progress } from './train-run-state.ts';
import { trainViewStyles } from './train-styles.ts';

export class TrainProgressView extends LitElement {
  static override properties = {
    progress: { attribute: false },
    saved: { attribute: false },
    running: { type: Boolean },
  };
  static override styles = trainViewStyles;

  progress: Progress | undefined;
  saved: Persisted | undefined;
  running = false;

  override render() {
    const p = this.progress;
    if (!p) return nothing;
    const frac = p.totalSteps ? Math.min(1, p.runStep / p.totalSteps) : 0;
    return html`<section class="progress" data-testid="train-progress">
      <div class="bar"><div style="width:${(frac * 100).toFixed(1)}%"></div></div>
      <div class="stats">
        <span data-testid="progress-step"
          >step
          ${p.runStep}/${p.totalSteps}${p.step !== p.runStep ? html` <small>(${p.step} in all)</small>` : nothing}</span
        >
        <span>loss ${Number.isFinite(p.loss) ? p.loss.toFixed(4) : '–'}</span>
        <span>lr ${formatNumber(p.lr, 5)}</span>
        <span data-testid="progress-speed"
          >${Number.isFinite(p.imagesPerSec) ? `${p.imagesPerSec.toFixed(2)} img/s` : '– img/s'}</span
        >
        <span>ETA ${this.running ? formatDuration(p.etaSec) : '–'}</span>
        ${
          this.saved && !this.saved.error
            ? html`<span
                data-testid="train-saved"
                title="Kept in this browser: a reload brings it back"
                >saved at step ${this.saved.step}</span
              >`
            : nothing
        }
      </div>
    </section>`;
  }
}

customElements.define('mam-train-progress', TrainProgressView);

declare global {
  interface HTMLElementTagNameMap {
    'mam-train-progress': TrainProgressView;
  }
}
