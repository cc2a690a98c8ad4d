/** Editor shortcuts. Keys typed into fields (inspector, search) are left alone. */
export interface ShortcutActions {
  remove(): void;
  undo(): void;
  redo(): void;
  copy(): void;
  cut(): void;
  paste(): void;
  save(): void;
  selectAll(): void;
  escape(): void;
}

const typingInto = (e: KeyboardEvent) => {
  const t = e.composedPath()[0] as HTMLElement | undefined;
  return !!t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
};

export function bindShortcuts(target: Window, a: ShortcutActions): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (typingInto(e)) return;
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    let handled = true;
    if (!mod && (e.key === 'Delete' || e.key === 'Backspace')) a.remove();
    else if (mod && key === 'z' && !e.shiftKey) a.undo();
    else if (mod && ((key === 'z' && e.shiftKey) || key === 'y')) a.redo();
    else if (mod && key === 'c') a.copy();
    else if (mod && key === 'x') a.cut();
    else if (mod && key === 'v') a.paste();
    else if (mod && key === 's') a.save();
    else if (mod && key === 'a') a.selectAll();
    else if (e.key === 'Escape') a.escape();
    else handled = false;
    if (handled) e.preventDefault();
  };
  target.addEventListener('keydown', onKey);
  return () => target.removeEventListener('keydown', onKey);
}
