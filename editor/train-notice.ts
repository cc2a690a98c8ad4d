/** A notice on the Train panel: a line (info or error) with an optional detail block. */
import { html, nothing } from 'lit';

export interface Notice {
  level: 'info' | 'error';
  text: string;
  detail?: string;
}

export const renderNotice = (n: Notice | undefined, testId: string) =>
  n
    ? html`<p class="notice ${n.level}" data-testid=${testId}>
        ${n.text}${n.detail ? html`<pre>${n.detail}</pre>` : nothing}
      </p>`
    : nothing;
