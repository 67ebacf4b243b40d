// "The tutorial way": the usual Express + multer memoryStorage + PutObject + INSERT handler,
// with no validation at all. A peer for SnapStore to beat, not something to deploy: it trusts
// the client's filename and Content-Type, has no size limit and no clean-up on failure.
// Same environment variables as SnapStore (PORT, HOST, DATABASE_URL, S3_*).
// TUTORIAL_CHECK_PIXELS=1 (set-up `tutorial+check`) adds the one check issue 2 requires of every
// upload, that its pixels decode, written the short way: a shrink-on-load decode to 32 px with
// sharp. Still no type, size or name checks, no local copy, no clean-up.
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import express from 'express';
import multer from 'multer';
import mysql from 'mysql2/promise';
import { v7 as uuidv7 } from 'uuid';

const {
  PORT = '3000',
  HOST = '127.0.0.1',
  DATABASE_URL,
  S3_BUCKET,
  S3_ENDPOINT,
  S3_REGION = 'us-east-1',
} = process.env;

const checkPixels = process.env.TUTORIAL_CHECK_PIXELS === '1';
const sharp = checkPixels ? (await import('sharp')).default : undefined;

const s3 = new S3Client({ region: S3_REGION, endpoint: S3_ENDPOINT, forcePathStyle: Boolean(S3_ENDPOINT) });
const db = mysql.createPool(DATABASE_URL); // mysql2 defaults: 10 connections
const upload = multer({ storage: multer.memoryStorage() });

const app = express();

app.post('/images', upload.single('image'), async (req, res) => {
  try {
    if (checkPixels) {
      try {
        await sharp(req.file.buffer, { failOn: 'error' }).resize(32, 32, { fit: 'inside' }).raw().toBuffer();
      } catch {
        return res.status(415).json({ error: 'not an image' });
      }
    }
    const id = uuidv7();
    const key = `${id}${path.extname(req.file.originalname)}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: S3_BUCKET,
        Key: key,
        Body: req.file.buffer,
        ContentType: req.file.mimetype,
        ACL: 'public-read',
      }),
    );
    const url = `${S3_ENDPOINT}/${S3_BUCKET}/${key}`;
    await db.execute(
      'INSERT INTO images (id, uploader_name, url, object_key, size_bytes, content_type, width, height, sha256, original_filename, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?)',
      [id, req.body.name, url, key, req.file.size, req.file.mimetype, '', req.file.originalname, new Date()],
    );
    res.status(201).json({ id, name: req.body.name, url, key, size: req.file.size });
  } catch (error) {
    console.error(error);
    res.status(500).json({ error: String(error.message) });
  }
});

app.get('/healthz', (_req, res) => res.send('ok'));

const server = app.listen(Number(PORT), HOST, () => {
  console.log(`tutorial server listening on http://${HOST}:${server.address().port}`);
});
process.on('SIGTERM', () => {
  server.close(() => db.end().then(() => process.exit(0)));
  server.closeIdleConnections();
});
