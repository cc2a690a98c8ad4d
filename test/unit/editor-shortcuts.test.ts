// The shortcut table the key handler and the ? overlay share: each chord
// means one action, and the keys a person types reach the documented one.
import { describe, expect, it } from 'vitest';
import { SHORTCUTS, chordText, shortcutFor } from '../../editor/keyboard.ts';

const key = (k: string, mods: { ctrl?: boolean; meta?: boolean; shift?: boolean } = {}) =>
  ({
    key: k,
    ctrlKey: !!mods.ctrl,
    metaKey: !!mods.meta,
    shiftKey: !!mods.shift,
  }) as KeyboardEvent;

describe('editor shortcuts', () => {
  it('gives every chord one action', () => {
    const seen = new Map<string, string>();
    for (const s of SHORTCUTS)
      for (const c of s.chords) {
        const text = chordText(c);
        expect(seen.get(text), text).toBeUndefined();
        seen.set(text, s.action);
      }
    expect(seen.size).toBe(SHORTCUTS.flatMap((s) => s.chords).length);
  });

  it('maps typed keys to the documented actions', () => {
    const cases: [KeyboardEvent, string | undefined][] = [
      [key('z', { ctrl: true }), 'undo'],
      [key('Z', { ctrl: true, shift: true }), 'redo'],
      [key('y', { meta: true }), 'redo'],
      [key('Delete'), 'remove'],
      [key('Backspace'), 'remove'],
      [key('+', { shift: true }), 'zoomIn'],
      [key('='), 'zoomIn'],
      [key('-'), 'zoomOut'],
      [key('0'), 'fit'],
      [key('?', { shift: true }), 'help'],
      [key('Escape'), 'escape'],
      [key('c', { ctrl: true }), 'copy'],
      [key('C', { ctrl: true, shift: true }), undefined],
      [key('0', { ctrl: true }), undefined],
      [key('z'), undefined],
    ];
    for (const [e, action] of cases)
      expect(shortcutFor(e)?.action, `${chordText({ key: e.key })}`).toBe(action);
  });

  it('writes chords as a person reads them', () => {
    expect(chordText({ key: 'z', mod: true, shift: true })).toBe('Ctrl+Shift+Z');
    expect(chordText({ key: 'Escape' })).toBe('Esc');
  });
});
