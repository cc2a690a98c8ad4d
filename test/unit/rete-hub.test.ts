// The hub scope of the mam-studio plugins: its events are Rete signals, heard
// by the handle's listeners as they are emitted and passed on to every child.
import { Scope } from 'rete';
import { describe, expect, it } from 'vitest';
import { MamHub, type MamSignal } from '../../src/rete/plugins/hub.ts';

describe('MamHub', () => {
  it('tells listeners at once, stops after unsubscribe, and passes the signal to children', async () => {
    const hub = new MamHub();
    const heard: unknown[] = [];
    const off = hub.on('hint', (h) => heard.push(h));
    const child = new Scope<never, [MamSignal]>('child');
    const seen: string[] = [];
    child.addPipe((ctx) => {
      seen.push(ctx.type);
      return ctx;
    });
    hub.use(child);

    hub.hint('Link refused', 'error');
    // synchronously, before any await: the listener pipe is the hub's first
    expect(heard).toEqual([{ message: 'Link refused', level: 'error' }]);
    hub.send('selection', ['a', 'b']);
    await expect.poll(() => seen).toEqual(['mam-hint', 'mam-selection']);

    off();
    hub.hint('again');
    expect(heard).toHaveLength(1);
    await expect.poll(() => seen).toEqual(['mam-hint', 'mam-selection', 'mam-hint']);
  });

  it('keeps listeners of different events apart', () => {
    const hub = new MamHub();
    const sel: string[][] = [];
    const links: (string | undefined)[] = [];
    hub.on('selection', (ids) => sel.push(ids));
    hub.on('linkSelection', (k) => links.push(k));
    hub.send('linkSelection', 'a:out->b:in');
    hub.send('selection', []);
    expect(sel).toEqual([[]]);
    expect(links).toEqual(['a:out->b:in']);
  });
});
