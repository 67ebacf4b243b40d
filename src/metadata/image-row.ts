import type { ImageContentType, ImageRecord } from '../domain/image.js';

/** Column list shared by both SQL adapters, in the order `toRowValues` produces. */
export const IMAGE_COLUMNS =
  'id, uploader_name, url, object_key, size_bytes, content_type, width, height, sha256, original_filename, created_at, thumbnail_key, thumbnail_url, delete_token_hash';

/** `?, ?, …` for every column in IMAGE_COLUMNS. */
export const IMAGE_PLACEHOLDERS = IMAGE_COLUMNS.split(',')
  .map(() => '?')
  .join(', ');

export interface ImageRow {
  id: string;
  uploader_name: string;
  url: string;
  object_key: string;
  size_bytes: number;
  content_type: string;
  width: number;
  height: number;
  sha256: string;
  original_filename: string | null;
  created_at: Date | string;
  thumbnail_key: string | null;
  thumbnail_url: string | null;
  delete_token_hash: string | null;
}

export function toRowValues(image: ImageRecord, createdAt: Date | string): unknown[] {
  return [
    image.id,
    image.name,
    image.url,
    image.key,
    image.size,
    image.contentType,
    image.width,
    image.height,
    image.sha256,
    image.originalFilename,
    createdAt,
    image.thumbnailKey,
    image.thumbnailUrl,
    image.deleteTokenHash,
  ];
}

export function fromRow(row: ImageRow): ImageRecord {
  return {
    id: row.id,
    name: row.uploader_name,
    url: row.url,
    key: row.object_key,
    size: Number(row.size_bytes),
    contentType: row.content_type as ImageContentType,
    width: Number(row.width),
    height: Number(row.height),
    sha256: row.sha256,
    originalFilename: row.original_filename,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
    thumbnailKey: row.thumbnail_key,
    thumbnailUrl: row.thumbnail_url,
    deleteTokenHash: row.delete_token_hash,
  };
}
