/** What the metadata store keeps for one upload. */
export interface ImageRecord {
  /** Time-ordered UUIDv7; newest-first order is id order. */
  id: string;
  /** Uploader's name as given (trimmed), any Unicode. */
  name: string;
  /** Public URL of the object; root-relative (`/uploads/...`) when the app serves it itself. */
  url: string;
  key: string;
  size: number;
  contentType: ImageContentType;
  width: number;
  height: number;
  sha256: string;
  createdAt: Date;
  /** The client's filename, for display only: it never reaches a path or a key. */
  originalFilename: string | null;
  /** A small WebP beside the original (`thumbs/<id>.webp`); null when thumbnails are off. */
  thumbnailKey: string | null;
  thumbnailUrl: string | null;
  /** SHA-256 of the delete token handed out once at upload; the token itself is never kept. */
  deleteTokenHash: string | null;
}

export type ImageContentType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';

export const EXTENSION_BY_TYPE: Readonly<Record<ImageContentType, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

export interface ImagePage {
  items: ImageRecord[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
  /** Pass back as `after` for the previous (newer) page; null on the first page. */
  prevCursor: string | null;
}
