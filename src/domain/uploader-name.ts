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
  .refine((name) => !/\p{Cc}/u.test(name), messages.nameInvalid);

/**
 * @returns the trimmed name, otherwise exactly as sent.
 * @throws InvalidNameError saying what to change.
 */
export function parseUploaderName(input: unknown): string {
  const result = uploaderName.safeParse(input);
  if (!result.success) throw new InvalidNameError(result.error.issues[0]?.message ?? messages.nameRequired);
  return result.data;
}
