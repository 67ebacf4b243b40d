import { z } from 'zod';
import { InvalidNameError } from './errors.js';
import { messages } from './messages.js';

export const MAX_NAME_LENGTH = 100;

// Length is counted in code points, as people and MySQL's utf8mb4 VARCHAR count characters:
// an emoji is one character, not two UTF-16 units.
const uploaderName = z
  .string({ error: messages.nameRequired })
  .trim()
  .min(1, messages.nameRequired)
  .refine((name) => [...name].length <= MAX_NAME_LENGTH, messages.nameTooLong(MAX_NAME_LENGTH))
  .refine((name) => !/\p{Cc}/u.test(name), messages.nameInvalid)
  // Explicit embeddings, overrides and isolates make text display in another order than it is
  // stored (spoofing). Right-to-left names do not need them; joiners (emoji, Persian) stay.
  .refine((name) => !/[\u202a-\u202e\u2066-\u2069]/u.test(name), messages.nameDirectionControls);

/**
 * @returns the trimmed name, otherwise exactly as sent.
 * @throws InvalidNameError saying what to change.
 */
export function parseUploaderName(input: unknown): string {
  if (Array.isArray(input)) throw new InvalidNameError(messages.nameRepeated);
  const result = uploaderName.safeParse(input);
  if (!result.success) throw new InvalidNameError(result.error.issues[0]?.message ?? messages.nameRequired);
  return result.data;
}
