/**
 * The app's dialogs, as small views: what a load could not read, the share
 * link, the keyboard shortcuts. Each says `close` when its Close button is
 * pressed; the controller (mam-app) decides what is open. Light DOM, styled
 * by styles.css's `.dialog` rules.
 */
import { LitElement, html } from 'lit';
import type { GraphIssue } from '../src/graph/types.ts';
import { chordText, GESTURES, SHORTCUTS } from './keyboard.ts';

export interface LoadReport {
  title: string;
  issues: GraphIssue[];
  /** Nothing was loaded: the graph that was open stays open. */
  kept: boolean;
}

/** A light-DOM view with a Close button that fires `close`. */
abstract class Dialog extends LitElement {
  override createRenderRoot() {
    return this;
  }

  protected closeButton(testId: string) {
    return html`<button
      data-testid=${testId}
      @click=${() => this.dispatchEvent(new CustomEvent('close'))}
    >
      Close
    </button>`;
  }
}

export class MamLoadReport extends Dialog {
  static override properties = { report: { attribute: false } };
  report: LoadReport | undefined;

  override render() {
    const r = this.report;
    if (!r) return html``;
    return html`<div class="dialog" role="dialog" data-testid="load-report">
      <h3>${r.title}</h3>
      ${
        r.kept
          ? html`<p>Nothing was changed: the graph you had open is still open.</p>`
          : html`<p>Everything that could be read was loaded. What could not:</p>`
      }
      <ul>
        ${r.issues.map((i) => html`<li><code>${i.path}</code> ${i.message}</li>`)}
      </ul>
      ${this.closeButton('report-close')}
    </div>`;
  }
}

export class MamShareDialog extends Dialog {
  static override properties = { url: { attribute: false } };
  url = '';

  override render() {
    return html`<div class="dialog" role="dialog" data-testid="share-dialog">
      <h3>Share link</h3>
      <p>
        Anyone who opens this link gets this graph (it travels inside the link; nothing is
        uploaded).
      </p>
      <input
        readonly
        data-testid="share-url"
        .value=${this.url}
        @focus=${(e: Event) => (e.target as HTMLInputElement).select()}
      />
      ${this.closeButton('share-close')}
    </div>`;
  }
}

export class MamShortcutsDialog extends Dialog {
  override render() {
    return html`<div class="dialog shortcuts" role="dialog" data-testid="shortcuts">
      <h3>Keyboard shortcuts</h3>
      <table>
        ${SHORTCUTS.map(
          (s) =>
            html`<tr data-testid="shortcut" data-action=${s.action}>
              <td>${s.chords.map((c) => html`<kbd>${chordText(c)}</kbd> `)}</td>
              <td>${s.label}</td>
            </tr>`,
        )}
      </table>
      <p class="note">
        Undo and redo also work from an inspector field once its value is committed (Tab or Enter).
      </p>
      <h3>Mouse</h3>
      <table>
        ${GESTURES.map(
          (g) =>
            html`<tr data-testid="gesture">
              <td><kbd>${g.gesture}</kbd></td>
              <td>${g.label}</td>
            </tr>`,
        )}
      </table>
      ${this.closeButton('shortcuts-close')}
    </div>`;
  }
}

customElements.define('mam-load-report', MamLoadReport);
customElements.define('mam-share-dialog', MamShareDialog);
customElements.define('mam-shortcuts-dialog', MamShortcutsDialog);

declare global {
  interface HTMLElementTagNameMap {
    'mam-load-report': MamLoadReport;
    'mam-share-dialog': MamShareDialog;
    'mam-shortcuts-dialog': MamShortcutsDialog;
  }
}
