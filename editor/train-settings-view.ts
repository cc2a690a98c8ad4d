/**
 * The Train panel's settings form: the run's choices, and below them what
 * they come to for this data by the session's rules (steps per epoch, the
 * learning rate after SGD's batch scaling). Changes go up as a
 * `settings-change` event with the whole new settings; the panel owns them.
 */
import { LitElement, html } from 'lit';
import type { GraphDoc } from '../src/graph/types.ts';
import { formatNumber } from './train-format.ts';
import { trainViewStyles } from './train-styles.ts';
import {
  panelOverrides,
  resolveRun,
  resolveVolumeRun,
  volumeInputOfDoc,
  type TrainPanelSettings,
} from './worker/api.ts';

export class TrainSettingsView extends LitElement {
  static override properties = {
    settings: { attribute: false },
    doc: { attribute: false },
    trainSlices: { attribute: false },
    trainVolumes: { attribute: false },
    disabled: { type: Boolean },
  };
  static override styles = trainViewStyles;

  settings!: TrainPanelSettings;
  doc: GraphDoc | undefined;
  /** Training slices of the data, once loaded. */
  trainSlices: number | undefined;
  /** Training volumes, where the graph takes volumes (an epoch is then one step per volume). */
  trainVolumes: number | undefined;
  disabled = false;

  private set<K extends keyof TrainPanelSettings>(key: K, value: TrainPanelSettings[K]) {
    const settings = { ...this.settings, [key]: value };
    this.dispatchEvent(new CustomEvent('settings-change', { detail: settings }));
  }

  private num(
    key: keyof TrainPanelSettings,
    label: string,
    attrs: { min?: number; step?: number; title?: string } = {},
  ) {
    return html`<label title=${attrs.title ?? ''}
      >${label}
      <input
        type="number"
        data-testid=${`setting-${key}`}
        min=${attrs.min ?? 0}
        step=${attrs.step ?? 1}
        .value=${String(this.settings[key])}
        ?disabled=${this.disabled}
        @change=${(e: Event) => {
          const v = Number((e.target as HTMLInputElement).value);
          if (Number.isFinite(v) && v >= (attrs.min ?? 0)) this.set(key, v as never);
          else this.requestUpdate();
        }}
    /></label>`;
  }

  override render() {
    const s = this.settings;
    // The session's rules, as the worker will apply them.
    const meta = this.doc?.metadata?.training;
    const overrides = panelOverrides(s, this.doc);
    const run =
      this.trainVolumes !== undefined
        ? resolveVolumeRun(meta, overrides, this.trainVolumes, volumeInputOfDoc(this.doc))
        : this.trainSlices === undefined
          ? undefined
          : resolveRun(meta, overrides, this.trainSlices);
    const perEpoch = run ? `${run.stepsPerEpoch} step${run.stepsPerEpoch === 1 ? '' : 's'}` : '';
    const validation =
      s.valEvery || !run
        ? ''
        : run.valEvery.from === 'default' && run.valEvery.note
          ? `, validation every ${run.valEvery.value} steps (${run.valEvery.note})`
          : ', validation each epoch';
    return html`<section class="settings">
      <div class="grid">
        ${this.num('epochs', 'Epochs', { min: 1 })}
        ${this.num('steps', 'Steps', { title: '0: epochs × steps per epoch' })}
        ${this.num('batchSize', 'Batch', { min: 1 })}
        ${this.num('learningRate', 'Learning rate', {
          step: 0.001,
          title: 'SGD: the rate at batch 24, scaled by batch/24 as the reference code does',
        })}
        <label
          >Optimizer
          <select
            data-testid="setting-optimizer"
            ?disabled=${this.disabled}
            @change=${(e: Event) =>
              this.set('optimizer', (e.target as HTMLSelectElement).value as 'sgd' | 'adamw')}
          >
            <option
              value="sgd"
              ?selected=${s.optimizer === 'sgd'}
              title="momentum 0.9, weight decay 1e-4"
            >
              SGD
            </option>
            <option value="adamw" ?selected=${s.optimizer === 'adamw'}>AdamW</option>
          </select></label
        >
        ${this.num('seed', 'Seed')}
        ${this.num('valEvery', 'Validate every', { title: '0: once per epoch' })}
        <label class="check"
          ><input
            type="checkbox"
            data-testid="setting-augment"
            .checked=${s.augment}
            ?disabled=${this.disabled}
            @change=${(e: Event) => this.set('augment', (e.target as HTMLInputElement).checked)}
          />
          Augment</label
        >
      </div>
      <p class="muted" data-testid="settings-summary">
        ${run ? `${perEpoch} per epoch → ${run.steps.value} steps` : ''}${run && run.learningRate.from === 'scaled by batch' ? `, lr ${formatNumber(run.learningRate.value, 4)} after the batch scaling` : ''}${validation};
        ${run?.settings.schedule ?? 'poly'} schedule; defaults from the graph’s training settings.
      </p>
    </section>`;
  }
}

customElements.define('mam-train-settings', TrainSettingsView);

declare global {
  interface HTMLElementTagNameMap {
    'mam-train-settings': TrainSettingsView;
  }
}
