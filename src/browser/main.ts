import { enhanceConfirmations } from './confirm.js';
import { enhanceCopyButtons } from './copy.js';
import { enhanceUploadForm } from './upload-form.js';

// Every page loads this one module; each part enhances what it finds. Without JavaScript every
// page still works: the form posts, and the share fields are read-only text to copy by hand.
const form = document.querySelector<HTMLFormElement>('form[data-upload-form]');
if (form) enhanceUploadForm(form);
enhanceCopyButtons(document);
enhanceConfirmations(document);
