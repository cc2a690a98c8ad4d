/**
 * Editor shortcuts, as one table: the key handler matches against it and the
 * `?` overlay lists it, so the two cannot drift apart.
 *
 * Keys typed into fields (inspector, search) are left to the field, with one
 * exception: undo and redo in a field that edits the document and holds no
 * uncommitted text (its value equals its `data-committed` attribute) act on
 * the document. After a value is committed with Tab or Enter, Ctrl+Z undoes
 * that commit; while text is being typed, Ctrl+Z undoes the typing.
 */
export interface ShortcutActions {
  remove(): void;
  undo(): void;
  redo(): void;
  copy(): void;
  cut(): void;
  paste(): void;
  save(): void;
  selectAll(): void;
  zoomIn(): void;
  zoomOut(): void;
  fit(): void;
  help(): void;
  escape(): void;
}

/** One key combination: `key` is KeyboardEvent.key (letters in lower case). */
export interface Chord {
  key: string;
  /** Ctrl (Cmd on a Mac) held. */
  mod?: boolean;
  shift?: boolean;
}

export interface Shortcut {
  action: keyof ShortcutActions;
  chords: Chord[];
  label: string;
  /** Also acts from a document-editing field with no uncommitted text. */
  fromCommittedField?: boolean;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'undo', chords: [{ key: 'z', mod: true }], label: 'Undo', fromCommittedField: true },
  {
    action: 'redo',
    chords: [
      { key: 'z', mod: true, shift: true },
      { key: 'y', mod: true },
    ],
    label: 'Redo',
    fromCommittedField: true,
  },
  {
    action: 'remove',
    chords: [{ key: 'Delete' }, { key: 'Backspace' }],
    label: 'Delete the selected nodes, or the selected link',
  },
  { action: 'copy', chords: [{ key: 'c', mod: true }], label: 'Copy the selected nodes' },
  { action: 'cut', chords: [{ key: 'x', mod: true }], label: 'Cut the selected nodes' },
  { action: 'paste', chords: [{ key: 'v', mod: true }], label: 'Paste' },
  { action: 'selectAll', chords: [{ key: 'a', mod: true }], label: 'Select every node' },
  { action: 'save', chords: [{ key: 's', mod: true }], label: 'Save the graph as .json' },
  { action: 'zoomIn', chords: [{ key: '+' }, { key: '=' }], label: 'Zoom in' },
  { action: 'zoomOut', chords: [{ key: '-' }], label: 'Zoom out' },
  { action: 'fit', chords: [{ key: '0' }], label: 'Fit the whole graph in view' },
  { action: 'help', chords: [{ key: '?' }], label: 'Show or hide this list' },
  { action: 'escape', chords: [{ key: 'Escape' }], label: 'Clear the selection, close dialogs' },
];

/** Pointer gestures, listed in the same overlay. */
export const GESTURES: readonly { gesture: string; label: string }[] = [
  { gesture: 'Click', label: 'Select a node or a link' },
  { gesture: 'Ctrl+Click', label: 'Add a node to the selection' },
  { gesture: 'Shift+Drag on empty canvas', label: 'Select the nodes the box touches' },
  { gesture: 'Drag on empty canvas', label: 'Pan' },
  { gesture: 'Wheel', label: 'Zoom at the pointer' },
  { gesture: 'Right-click', label: 'Menu: add nodes, presets, swap, convert to MAM/SAM' },
  { gesture: 'Drag from a port', label: 'Draw a link (only between ports of the same kind)' },
];

const KEY_NAMES: Record<string, string> = {
  Delete: 'Delete',
  Backspace: 'Backspace',
  Escape: 'Esc',
};

export const chordText = (c: Chord): string =>
  [c.mod ? 'Ctrl' : '', c.shift ? 'Shift' : '', KEY_NAMES[c.key] ?? c.key.toUpperCase()]
    .filter(Boolean)
    .join('+');

function matches(c: Chord, e: KeyboardEvent): boolean {
  const mod = e.ctrlKey || e.metaKey;
  if (!!c.mod !== mod) return false;
  // Shift is part of a Ctrl chord; for plain keys it is how '+' and '?' are typed.
  if (c.mod && !!c.shift !== e.shiftKey) return false;
  return c.key.length === 1 ? e.key.toLowerCase() === c.key : e.key === c.key;
}

export const shortcutFor = (e: KeyboardEvent): Shortcut | undefined =>
  SHORTCUTS.find((s) => s.chords.some((c) => matches(c, e)));

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** The field a key goes to, if any, and whether it holds uncommitted text. */
function fieldOf(e: KeyboardEvent): { field: boolean; committed: boolean } {
  const t = e.composedPath()[0] as HTMLElement | undefined;
  if (!t) return { field: false, committed: false };
  if (t.isContentEditable) return { field: true, committed: false };
  if (!['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))
    return { field: false, committed: false };
  const f = t as Field;
  const committed =
    f.dataset.committed !== undefined &&
    ((f as HTMLInputElement).type === 'checkbox' || f.value === f.dataset.committed);
  return { field: true, committed };
}

export function bindShortcuts(target: Window, a: ShortcutActions): () => void {
  const onKey = (e: KeyboardEvent) => {
    const s = shortcutFor(e);
    if (!s) return;
    const { field, committed } = fieldOf(e);
    if (field && !(s.fromCommittedField && committed)) return;
    e.preventDefault();
    a[s.action]();
  };
  target.addEventListener('keydown', onKey);
  return () => target.removeEventListener('keydown', onKey);
}
