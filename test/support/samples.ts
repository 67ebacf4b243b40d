import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Copies of ../shared/samples (credits in fixtures/samples/SOURCES.md). */
export const SAMPLES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/samples');

export interface Sample {
  name: string;
  file: string;
  bytes: Buffer;
}

export function samples(folder: 'jpg' | 'png' | 'bad' | 'heic'): Sample[] {
  const dir = path.join(SAMPLES_DIR, folder);
  return readdirSync(dir)
    .sort()
    .map((name) => ({
      name: `${folder}/${name}`,
      file: path.join(dir, name),
      bytes: readFileSync(path.join(dir, name)),
    }));
}

export function sample(name: string): Buffer {
  return readFileSync(path.join(SAMPLES_DIR, name));
}
