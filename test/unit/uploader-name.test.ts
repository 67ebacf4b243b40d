import { describe, expect, it } from 'vitest';
import { InvalidNameError } from '../../src/domain/errors.js';
import { parseUploaderName } from '../../src/domain/uploader-name.js';
import { formatBytes } from '../../src/domain/format.js';

describe('parseUploaderName', () => {
  it.each(['Ada', 'José Ñúñez', 'Zoë 🦊📸', 'מרים כהן', 'محمد', '李小龍'])('keeps %s exactly', (name) => {
    expect(parseUploaderName(name)).toBe(name);
  });

  it('trims surrounding white space', () => {
    expect(parseUploaderName('  Ada Lovelace \n')).toBe('Ada Lovelace');
  });

  it('counts characters, not UTF-16 units: 100 emoji are fine, 101 characters are not', () => {
    expect(parseUploaderName('🦊'.repeat(100))).toHaveLength(200);
    expect(() => parseUploaderName('a'.repeat(101))).toThrow('at most 100 characters');
  });

  it.each([[undefined], [''], ['    '], [42]])('refuses %j', (value) => {
    expect(() => parseUploaderName(value)).toThrow(InvalidNameError);
  });

  it('refuses control characters', () => {
    expect(() => parseUploaderName('Ada\u0000Bob')).toThrow(/control characters/);
  });
});

describe('formatBytes', () => {
  it.each([
    [512, '512 bytes'],
    [1024, '1 KiB'],
    [1_048_576, '1 MiB'],
    [2_190_194, '2.1 MiB'],
  ])('%d is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('parseUploaderName against spoofing and repeats', () => {
  it('refuses text-direction overrides but keeps joiners', () => {
    expect(() => parseUploaderName('Ada\u202Egpj.exe')).toThrow(/text-direction controls/);
    expect(parseUploaderName('👩\u200D💻 Ada')).toBe('👩\u200D💻 Ada');
  });

  it('asks for one name when the field is repeated', () => {
    expect(() => parseUploaderName(['Ada', 'Bob'])).toThrow('Send the name field once.');
  });
});
