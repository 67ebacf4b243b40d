// JPEGs whose headers are walked one way by a naive reader and another way by libjpeg, from a
// hostile pass over the JavaScript header reader (2026-12-04). The trick: RSTn and TEM markers
// carry no length, and libjpeg skips them as two bytes where they stand in a header; a reader
// that takes the next two bytes as a length jumps 65,535 bytes instead, into data it reads as
// other segments.
import sharp from 'sharp';

const SOI = Buffer.from([0xff, 0xd8]);
const FILL = 16;
/** After SOI: RST0, fill bytes and a COM whose length is FFFF. */
const HEAD = Buffer.concat([SOI, Buffer.from([0xff, 0xd0]), Buffer.alloc(FILL, 0xff), Buffer.from([0xfe, 0xff, 0xff])]);
/** Where libjpeg continues, after that COM. */
const LIBJPEG_NEXT = 5 + FILL + 65_535;
/** Where a reader that gave RST0 the length FFFF continues. */
const NAIVE_NEXT = 2 + 2 + 65_535;

function split(jpeg: Buffer): { segments: Buffer[]; scan: Buffer } {
  const segments: Buffer[] = [];
  let offset = 2;
  while (jpeg[offset + 1] !== 0xda) {
    const end = offset + 2 + jpeg.readUInt16BE(offset + 2);
    segments.push(jpeg.subarray(offset, end));
    offset = end;
  }
  return { segments, scan: jpeg.subarray(offset) };
}

/** libjpeg sees `real`; a naive reader sees a 1 × 1 greyscale frame. */
export function jpegHidingItsSize(real: Buffer): Buffer {
  const fakeFrame = Buffer.from([
    0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xff, 0xda,
  ]);
  const comBody = Buffer.alloc(LIBJPEG_NEXT - HEAD.length, 0);
  fakeFrame.copy(comBody, NAIVE_NEXT - HEAD.length);
  const { segments, scan } = split(real);
  return Buffer.concat([HEAD, comBody, ...segments, scan]);
}

/**
 * libjpeg sees `hidden`; a naive reader sees `shown`, and dropping the APPn segments it sees
 * (as a metadata stripper does) leaves exactly `shown` for libjpeg too.
 */
export function jpegShowingAnother(shown: Buffer, hidden: Buffer): Buffer {
  const hiddenImage = Buffer.concat([...split(hidden).segments, split(hidden).scan]);
  const app9Body = Buffer.concat([Buffer.alloc(LIBJPEG_NEXT - (NAIVE_NEXT + 4), 0), hiddenImage, Buffer.alloc(16, 0)]);
  const app9 = Buffer.concat([Buffer.from([0xff, 0xe9, 0, 0]), app9Body]);
  app9.writeUInt16BE(app9Body.length + 2, 2);
  const app0Length = LIBJPEG_NEXT - NAIVE_NEXT;
  const app0 = Buffer.concat([Buffer.from([0xff, 0xe0, 0, app0Length - 2]), Buffer.alloc(app0Length - 4, 0)]);
  const { segments, scan } = split(shown);
  return Buffer.concat([HEAD, Buffer.alloc(NAIVE_NEXT - HEAD.length, 0), app9, app0, ...segments, scan]);
}

/** A JPEG of `width` × `height` whose frame header claims `claimedWidth` × `claimedHeight`. */
export async function jpegClaiming(claimedWidth: number, claimedHeight: number): Promise<Buffer> {
  const jpeg = Buffer.from(
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } })
      .greyscale()
      .jpeg()
      .toBuffer(),
  );
  const frame = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(claimedHeight, frame + 5);
  jpeg.writeUInt16BE(claimedWidth, frame + 7);
  return jpeg;
}

/** A 60 × 40 JPEG whose EXIF IFD0 holds the Orientation tag twice (libexif keeps the first). */
export async function jpegWithTwoOrientations(first: number, second: number): Promise<Buffer> {
  const base = await sharp({ create: { width: 60, height: 40, channels: 3, background: '#00f' } })
    .composite([{ input: { create: { width: 30, height: 40, channels: 3, background: '#f00' } }, left: 0, top: 0 }])
    .jpeg()
    .toBuffer();
  const tiff = Buffer.alloc(8 + 2 + 2 * 12 + 4);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(2, 8);
  [first, second].forEach((orientation, i) => {
    const entry = 10 + i * 12;
    tiff.writeUInt16LE(0x0112, entry);
    tiff.writeUInt16LE(3, entry + 2);
    tiff.writeUInt32LE(1, entry + 4);
    tiff.writeUInt16LE(orientation, entry + 8);
  });
  const exifBody = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, 0]), exifBody]);
  app1.writeUInt16BE(exifBody.length + 2, 2);
  const { segments, scan } = split(base);
  return Buffer.concat([SOI, app1, ...segments, scan]);
}

const twoColours = (background: string, foreground: string, width: number, height: number) =>
  sharp({ create: { width: 64, height: 64, channels: 3, background } })
    .composite([{ input: { create: { width, height, channels: 3, background: foreground } }, left: 0, top: 0 }])
    .jpeg({ quality: 90, progressive: true })
    .toBuffer();

/**
 * A progressive JPEG whose first scans draw red | blue, then a COM holding the bytes FF D9
 * (end of image, to a reader that does not walk segments after the first scan), then scans
 * that redraw every coefficient as green over yellow. libjpeg shows green over yellow.
 */
export async function jpegWithEndMarkerInACommentBetweenScans(): Promise<Buffer> {
  const first = split(await twoColours('#0000ff', '#ff0000', 32, 64));
  const second = split(await twoColours('#ffff00', '#00ff00', 64, 32));
  const comment = Buffer.from([0xff, 0xfe, 0x00, 0x04, 0xff, 0xd9]);
  const secondTables = second.segments.filter((segment) => segment[1] === 0xc4);
  return Buffer.concat([
    SOI,
    ...first.segments,
    first.scan.subarray(0, first.scan.length - 2),
    comment,
    ...secondTables,
    second.scan,
  ]);
}

/** A baseline JPEG with an EXIF block (a camera name) after its scan, before EOI. */
export async function jpegWithExifAfterTheScan(): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#08f' } })
    .jpeg()
    .toBuffer();
  const exif = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), Buffer.from('II*\0\x08\0\0\0\0\0LeakyCam', 'latin1')]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, 0]), exif]);
  app1.writeUInt16BE(exif.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, jpeg.length - 2), app1, jpeg.subarray(jpeg.length - 2)]);
}
