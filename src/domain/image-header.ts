/**
 * Size and EXIF orientation of a JPEG or PNG read straight from its header, for the common,
 * well-formed case. It saves a libvips call (and libexif's parse of every EXIF tag) per upload.
 * Anything unusual (no or several frame headers, several EXIF blocks, a value out of range, an
 * animated PNG) gives undefined, and the caller asks libvips instead, so both always agree.
 */
export interface ImageHeader {
  width: number;
  height: number;
  orientation: number;
}

export interface JpegSegment {
  marker: number;
  /** Offset of the segment's 0xFF marker byte and of the byte after it. */
  start: number;
  end: number;
}

/**
 * The segments of a JPEG's header, up to its first scan, walked as libjpeg walks them. Only
 * the segments libjpeg reads by their length are walked. Anything else gives undefined:
 * markers without a length (RSTn and TEM, which libjpeg skips as two bytes), reserved markers,
 * bytes between segments. Taking one of those for a length would read the rest of the header
 * differently from the decoder, so callers leave such a file to libvips.
 */
export function jpegHeaderSegments(bytes: Buffer): { segments: JpegSegment[]; scanStart: number } | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const segments: JpegSegment[] = [];
  let offset = 2;
  for (;;) {
    if (offset + 4 > bytes.length || bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0xda) return { segments, scanStart: offset };
    if (!hasLength(marker)) return undefined;
    const length = bytes.readUInt16BE(offset + 2);
    const end = offset + 2 + length;
    if (length < 2 || end > bytes.length) return undefined;
    segments.push({ marker, start: offset, end });
    offset = end;
  }
}

// Frame headers, DHT (C4), DAC (CC), DQT (DB), DRI (DD), APPn (E0-EF) and COM (FE).
const hasLength = (marker: number) =>
  (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc8) ||
  marker === 0xdb ||
  marker === 0xdd ||
  (marker >= 0xe0 && marker <= 0xef) ||
  marker === 0xfe;

export function readJpegHeader(bytes: Buffer): ImageHeader | undefined {
  const header = jpegHeaderSegments(bytes);
  if (!header) return undefined;
  let size: { width: number; height: number } | undefined;
  let orientation: number | undefined;
  let exifBlocks = 0;
  for (const { marker, start, end } of header.segments) {
    if (isStartOfFrame(marker)) {
      if (size || end - start < 9) return undefined;
      size = { height: bytes.readUInt16BE(start + 5), width: bytes.readUInt16BE(start + 7) };
    } else if (marker === 0xe1 && bytes.toString('latin1', start + 4, start + 10) === 'Exif\0\0') {
      exifBlocks += 1;
      orientation = exifOrientation(bytes.subarray(start + 10, end));
      if (orientation === undefined) return undefined;
    }
  }
  if (!size || size.width === 0 || size.height === 0 || exifBlocks > 1) return undefined;
  return { ...size, orientation: orientation ?? 1 };
}

// SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
const isStartOfFrame = (marker: number) =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/** Orientation from IFD0 of a TIFF-structured EXIF block: 1 when absent, undefined when unsure. */
function exifOrientation(tiff: Buffer): number | undefined {
  if (tiff.length < 8) return undefined;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const little = order === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return undefined;
  const ifd = u32(4);
  if (ifd < 8 || ifd + 2 > tiff.length) return undefined;
  const entries = u16(ifd);
  if (ifd + 2 + entries * 12 > tiff.length) return undefined;
  let orientation: number | undefined;
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (u16(entry) !== 0x0112) continue;
    if (orientation !== undefined) return undefined; // given twice: which one counts is libexif's call
    // SHORT, one value, stored in the first two bytes of the value field.
    if (u16(entry + 2) !== 3 || u32(entry + 4) !== 1) return undefined;
    orientation = u16(entry + 8);
    if (orientation < 1 || orientation > 8) return undefined;
  }
  return orientation ?? 1;
}

export function readPngHeader(bytes: Buffer): ImageHeader | undefined {
  // IHDR is always the first chunk, right after the 8-byte signature.
  if (bytes.length < 33 || bytes.readUInt32BE(8) !== 13 || bytes.toString('latin1', 12, 16) !== 'IHDR')
    return undefined;
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return undefined;
  // An animated PNG announces itself (acTL) before its first image data; an orientation
  // travels in an eXIf chunk. Either is left to libvips.
  let offset = 8;
  while (offset + 8 <= bytes.length) {
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    if (type === 'acTL' || type === 'eXIf') return undefined;
    if (type === 'IDAT' || type === 'IEND') return { width, height, orientation: 1 };
    offset += 12 + bytes.readUInt32BE(offset);
  }
  return undefined;
}
