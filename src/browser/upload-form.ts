import { checkFile, checkName, text } from './checks.js';
import { formatBytes } from '../domain/format.js';

/** Which field a server error code belongs to; anything else is shown above the form. */
const FIELD_OF_CODE: Readonly<Record<string, 'name' | 'image'>> = {
  invalid_name: 'name',
  missing_file: 'image',
  file_too_large: 'image',
  too_many_pixels: 'image',
  unsupported_type: 'image',
};

interface ErrorBody {
  error?: { code?: unknown; message?: unknown };
}

interface Parts {
  form: HTMLFormElement;
  name: HTMLInputElement;
  image: HTMLInputElement;
  dropzone: HTMLElement;
  submit: HTMLButtonElement;
}

/**
 * Enhances the upload form, which works without JavaScript as a plain multipart post: the
 * drop zone accepts dropped files, the chosen image is previewed and checked at once (type,
 * size), and the upload is sent with XMLHttpRequest so that a progress bar follows it.
 */
export function enhanceUploadForm(form: HTMLFormElement): void {
  const name = form.querySelector<HTMLInputElement>('#name');
  const image = form.querySelector<HTMLInputElement>('#image');
  const dropzone = form.querySelector<HTMLElement>('[data-dropzone]');
  const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]');
  if (!name || !image || !dropzone || !submit) return;
  const parts: Parts = { form, name, image, dropzone, submit };
  const maxBytes = Number(form.dataset.maxBytes) || Infinity;

  // Our messages replace the browser's bubbles, so that every error is shown and announced the same way.
  form.noValidate = true;
  form.classList.add('is-enhanced');

  let previewUrl: string | null = null;
  let busy = false;

  const selected = (): File | null => image.files?.[0] ?? null;

  const choose = async (file: File | null) => {
    clearError(parts, 'image');
    clearError(parts, 'form');
    showPreview(file);
    if (!file) return;
    const problem = await checkFile(file, maxBytes);
    // Another file may have been chosen while this one was read.
    if (problem && selected() === file) showError(parts, 'image', problem);
  };

  const showPreview = (file: File | null) => {
    const preview = form.querySelector<HTMLElement>('[data-preview]');
    const img = preview?.querySelector('img');
    const caption = preview?.querySelector<HTMLElement>('[data-preview-caption]');
    if (!preview || !img || !caption) return;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    if (!file) {
      preview.hidden = true;
      img.removeAttribute('src');
      dropzone.classList.remove('has-file');
      return;
    }
    caption.textContent = `${file.name} · ${formatBytes(file.size)}`;
    dropzone.classList.add('has-file');
    preview.hidden = false;
    if (/^image\/(jpeg|png|gif|webp)$/i.test(file.type)) {
      previewUrl = URL.createObjectURL(file);
      img.src = previewUrl;
      img.hidden = false;
      img.onload = () => {
        if (img.naturalWidth)
          caption.textContent = `${file.name} · ${formatBytes(file.size)} · ${img.naturalWidth} × ${img.naturalHeight}`;
      };
      // Not an image after all (its message says so): no broken-image icon.
      img.onerror = () => {
        img.hidden = true;
      };
    } else {
      img.removeAttribute('src');
      img.hidden = true;
    }
  };

  // Back from the image page, the browser may restore this page as it was while uploading.
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) resetProgress(form, submit);
  });

  image.addEventListener('change', () => void choose(selected()));
  name.addEventListener('input', () => clearError(parts, 'name'));

  // The whole zone opens the picker on a click; the file input itself stays the keyboard control
  // (it opens the picker on Enter and Space).
  dropzone.addEventListener('click', (event) => {
    if (busy || event.target === image) return;
    image.click();
  });

  let depth = 0;
  const carriesFiles = (event: DragEvent) => [...(event.dataTransfer?.types ?? [])].includes('Files');
  dropzone.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    dropzone.classList.add('is-dragover');
  });
  dropzone.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
  });
  dropzone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) dropzone.classList.remove('is-dragover');
  });
  dropzone.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    dropzone.classList.remove('is-dragover');
    if (busy) return;
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    // Put the file in the input, so that the form (and FormData) carries it like a picked one.
    const transfer = new DataTransfer();
    transfer.items.add(file);
    image.files = transfer.files;
    void choose(file);
  });
  // A file dropped just beside the zone would otherwise replace the page with the image.
  for (const type of ['dragover', 'drop'] as const) {
    document.addEventListener(type, (event) => {
      if (carriesFiles(event) && !dropzone.contains(event.target as Node)) event.preventDefault();
    });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy) return;
    void (async () => {
      clearError(parts, 'form');
      const nameProblem = checkName(name.value);
      const file = selected();
      const fileProblem = file ? await checkFile(file, maxBytes) : text.noFile;
      if (nameProblem) showError(parts, 'name', nameProblem);
      else clearError(parts, 'name');
      if (fileProblem) showError(parts, 'image', fileProblem);
      else clearError(parts, 'image');
      if (nameProblem || fileProblem) {
        (nameProblem ? name : image).focus();
        return;
      }
      busy = true;
      try {
        await send(parts);
      } finally {
        busy = false;
      }
    })();
  });
}

/** Posts the form as the no-JavaScript form would, asking for JSON, and follows its progress. */
function send(parts: Parts): Promise<void> {
  const { form, submit } = parts;
  const progress = form.querySelector<HTMLProgressElement>('progress');
  const progressBox = form.querySelector<HTMLElement>('[data-progress]');
  const percent = form.querySelector<HTMLElement>('[data-progress-percent]');
  const status = form.querySelector<HTMLElement>('[data-status]');
  submit.dataset.label ??= submit.textContent ?? 'Upload';

  const setProgress = (value: number) => {
    if (progress) progress.value = value;
    if (percent) percent.textContent = `${Math.round(value)}%`;
  };
  const finish = () => resetProgress(form, submit);

  setProgress(0);
  if (progressBox) progressBox.hidden = false;
  if (status) status.textContent = 'Uploading…';
  submit.disabled = true;
  submit.textContent = 'Uploading…';
  form.setAttribute('aria-busy', 'true');

  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && event.total > 0) setProgress((event.loaded / event.total) * 100);
    });
    xhr.upload.addEventListener('load', () => setProgress(100));
    xhr.addEventListener('load', () => {
      const body = parseJson(xhr.responseText);
      if (xhr.status === 201) {
        setProgress(100);
        if (status) status.textContent = 'Uploaded. Opening the image page…';
        const id = (body as { id?: unknown } | null)?.id;
        const location = xhr.getResponseHeader('Location') ?? (typeof id === 'string' ? `/images/${id}` : '/images');
        window.location.assign(location);
        resolve();
        return;
      }
      finish();
      const error = (body as ErrorBody | null)?.error;
      const code = typeof error?.code === 'string' ? error.code : '';
      const message =
        typeof error?.message === 'string'
          ? error.message
          : xhr.status === 413
            ? `The image is larger than the ${form.dataset.maxLabel ?? 'size'} limit. Make it smaller and try again.`
            : `The upload failed (HTTP ${xhr.status}). Try again.`;
      const field = FIELD_OF_CODE[code] ?? (xhr.status === 413 ? 'image' : 'form');
      showError(parts, field, message);
      if (field !== 'form') parts[field].focus();
      resolve();
    });
    const failed = (message: string) => () => {
      finish();
      showError(parts, 'form', message);
      resolve();
    };
    xhr.addEventListener('error', failed('The upload did not reach the server: check your connection and try again.'));
    xhr.addEventListener('timeout', failed('The upload took too long and was stopped. Try again.'));
    xhr.send(new FormData(form));
  });
}

/** Back to the state before an upload: button enabled, no progress bar. */
function resetProgress(form: HTMLFormElement, submit: HTMLButtonElement): void {
  submit.disabled = false;
  if (submit.dataset.label) submit.textContent = submit.dataset.label;
  form.removeAttribute('aria-busy');
  const progressBox = form.querySelector<HTMLElement>('[data-progress]');
  if (progressBox) progressBox.hidden = true;
  const status = form.querySelector<HTMLElement>('[data-status]');
  if (status) status.textContent = '';
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

/** Shows a message in the field's live region (announced) and marks the field invalid. */
function showError(parts: Parts, field: 'name' | 'image' | 'form', message: string): void {
  const region = parts.form.querySelector<HTMLElement>(`#${field}-error`);
  if (!region) return;
  const p = document.createElement('p');
  p.className = 'error';
  p.textContent = message;
  region.replaceChildren(p);
  if (field === 'image') parts.dropzone.classList.add('is-invalid');
  if (field !== 'form') parts[field].setAttribute('aria-invalid', 'true');
}

function clearError(parts: Parts, field: 'name' | 'image' | 'form'): void {
  parts.form.querySelector(`#${field}-error`)?.replaceChildren();
  if (field === 'image') parts.dropzone.classList.remove('is-invalid');
  if (field !== 'form') parts[field].removeAttribute('aria-invalid');
}
