/**
 * Versioned schema changes, one entry per version, each with the statements for both dialects.
 * Never edit an entry that has shipped: add the next version instead.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string[];
  mysql: string[];
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create images',
    sqlite: [
      `CREATE TABLE images (
        id TEXT PRIMARY KEY NOT NULL,
        uploader_name TEXT NOT NULL,
        url TEXT NOT NULL,
        object_key TEXT NOT NULL UNIQUE,
        size_bytes INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        original_filename TEXT,
        created_at TEXT NOT NULL
      ) STRICT`,
    ],
    mysql: [
      // The id is a UUIDv7, so newest-first is primary-key order and keyset pages need no
      // extra index. ascii_bin columns keep keys and hashes compact and compared byte-wise.
      `CREATE TABLE images (
        id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        uploader_name VARCHAR(100) NOT NULL,
        url VARCHAR(2048) NOT NULL,
        object_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        size_bytes INT UNSIGNED NOT NULL,
        content_type VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        width INT UNSIGNED NOT NULL,
        height INT UNSIGNED NOT NULL,
        sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        original_filename VARCHAR(255) NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY images_object_key (object_key)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
    ],
  },
  {
    version: 2,
    name: 'thumbnails and delete tokens',
    sqlite: [
      'ALTER TABLE images ADD COLUMN thumbnail_key TEXT',
      'ALTER TABLE images ADD COLUMN thumbnail_url TEXT',
      'ALTER TABLE images ADD COLUMN delete_token_hash TEXT',
    ],
    mysql: [
      `ALTER TABLE images
        ADD COLUMN thumbnail_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
        ADD COLUMN thumbnail_url VARCHAR(2048) NULL,
        ADD COLUMN delete_token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL`,
    ],
  },
];
