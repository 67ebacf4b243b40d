const COPIED_FOR_MS = 2000;

/**
 * Copy buttons: `<button data-copy="ID" hidden>` copies the value of the field #ID. The buttons
 * stay hidden without JavaScript (the fields are read-only and selectable). Copying uses the
 * Clipboard API, and falls back to selecting the text on plain-HTTP pages where it is missing.
 */
export function enhanceCopyButtons(root: ParentNode): void {
  const status = root.querySelector<HTMLElement>('[data-copy-status]');
  for (const button of root.querySelectorAll<HTMLButtonElement>('button[data-copy]')) {
    const field = document.getElementById(button.dataset.copy ?? '');
    if (!(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement)) continue;
    const label = button.querySelector<HTMLElement>('[data-copy-label]') ?? button;
    const idle = label.textContent ?? 'Copy';
    const what = button.dataset.copyWhat ?? 'Text';
    let timer: number | undefined;

    button.hidden = false;
    button.addEventListener('click', async () => {
      const copied = await copy(field);
      window.clearTimeout(timer);
      if (copied) {
        button.classList.add('is-copied');
        label.textContent = 'Copied';
        if (status) status.textContent = `${what} copied to the clipboard.`;
        timer = window.setTimeout(() => {
          button.classList.remove('is-copied');
          label.textContent = idle;
        }, COPIED_FOR_MS);
      } else if (status) {
        status.textContent = `Could not copy: the ${what.toLowerCase()} is selected, press Ctrl+C (⌘C on a Mac) to copy it.`;
      }
    });
  }
  // Clicking a read-only field selects all of it, ready to copy by hand.
  for (const field of root.querySelectorAll<HTMLInputElement>('input[data-select-on-focus]')) {
    field.addEventListener('focus', () => field.select());
    field.addEventListener('click', () => field.select());
  }
}

async function copy(field: HTMLInputElement | HTMLTextAreaElement): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(field.value);
      return true;
    }
  } catch {
    // Denied or unavailable: fall back to a selection below.
  }
  field.focus();
  field.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}
