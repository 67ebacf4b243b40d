// Load process, forked by run.mjs. Two modes:
//   http:   POSTs pre-built multipart bodies to a server (SnapStore or the tutorial) with undici;
//   direct: the floor: PutObject of the same bytes to the same S3 endpoint plus the same row
//           inserted with mysql2, no HTTP layer and no checks.
// Either way `concurrency` loops run back to back for warmupMs + durationMs; only what completes
// inside the measured window counts. Messages to the parent: ready, window-start, window-end, result.
import { readFileSync } from 'node:fs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import mysql from 'mysql2/promise';
import { Pool } from 'undici';
import { v7 as uuidv7 } from 'uuid';
import { summarise } from './lib/stats.mjs';

const UPLOADER = 'Bench user';
const INSERT_SQL =
  'INSERT INTO images (id, uploader_name, url, object_key, size_bytes, content_type, width, height, sha256, original_filename, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

function multipart(entry, bytes) {
  const boundary = `----snapstore-bench-${entry.sha256.slice(0, 16)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n${UPLOADER}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${entry.name}"\r\n` +
      `Content-Type: ${entry.contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const body = Buffer.concat([head, bytes, tail]);
  return {
    body,
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(body.length),
      accept: 'application/json',
    },
  };
}

/** Same seeded order of files for every set-up, so each gets the same mix. */
function shuffledOrder(n, length = 4096) {
  let x = 0x2545f491;
  const order = [];
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    order.push(x % n);
  }
  return order;
}

async function httpMode(config) {
  const pool = new Pool(config.url, {
    connections: config.concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  });
  const doOne = async (file) => {
    const { statusCode, body } = await pool.request({
      path: '/images',
      method: 'POST',
      headers: file.headers,
      body: file.body,
    });
    const text = await body.text();
    return { status: statusCode, detail: statusCode >= 300 ? text.slice(0, 300) : undefined };
  };
  return { doOne, close: () => pool.close() };
}

async function directMode(config) {
  const { endpoint, bucket, region, databaseUrl, poolSize } = config.direct;
  const s3 = new S3Client({
    region,
    endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const db = mysql.createPool({
    uri: databaseUrl,
    connectionLimit: poolSize,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
  });
  // Newer schemas add a delete-token hash that SnapStore fills on every upload: write it too.
  const [columns] = await db.query("SHOW COLUMNS FROM images LIKE 'delete_token_hash'");
  const withToken = columns.length > 0;
  const sql = withToken
    ? INSERT_SQL.replace(', created_at)', ', created_at, delete_token_hash)').replace('?)', '?, ?)')
    : INSERT_SQL;
  const doOne = async (file) => {
    const id = uuidv7();
    const key = `${id}.${file.contentType === 'image/png' ? 'png' : 'jpg'}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: file.bytes,
        ContentLength: file.bytes.length,
        ContentType: file.contentType,
        CacheControl: 'public, max-age=31536000, immutable',
        ACL: 'public-read',
      }),
    );
    await db.execute(sql, [
      id,
      UPLOADER,
      `${endpoint}/${bucket}/${key}`,
      key,
      file.size,
      file.contentType,
      file.width,
      file.height,
      file.sha256,
      file.name,
      new Date(),
      ...(withToken ? [file.sha256] : []),
    ]);
    return { status: 201 };
  };
  return {
    doOne,
    close: async () => {
      s3.destroy();
      await db.end();
    },
  };
}

async function main(config) {
  const files = config.files.map((entry) => {
    const bytes = readFileSync(entry.file);
    return { ...entry, bytes, ...(config.mode === 'http' ? multipart(entry, bytes) : {}) };
  });
  const runner = config.mode === 'http' ? await httpMode(config) : await directMode(config);
  const order = shuffledOrder(files.length);
  process.send({ type: 'ready' });
  await new Promise((resolve) => process.once('message', resolve)); // "go"

  let counter = 0;
  let windowStart;
  let windowEnd;
  const inWindow = { latencies: [], ok: 0, bytes: 0, errors: 0 };
  const outside = { ok: 0, errors: 0 };
  const errorKinds = new Map();
  const noteError = (kind, detail) => {
    const seen = errorKinds.get(kind) ?? { count: 0, detail };
    seen.count += 1;
    errorKinds.set(kind, seen);
  };

  const startTimer = setTimeout(() => {
    windowStart = performance.now();
    process.send({ type: 'window-start' });
  }, config.warmupMs);
  const endTimer = setTimeout(() => {
    windowEnd = performance.now();
    process.send({ type: 'window-end' });
  }, config.warmupMs + config.durationMs);

  const loop = async () => {
    while (windowEnd === undefined) {
      const file = files[order[counter++ % order.length]];
      const began = performance.now();
      let ok = false;
      try {
        const { status, detail } = await runner.doOne(file);
        ok = status >= 200 && status < 300;
        if (!ok) noteError(`HTTP ${status}`, detail);
      } catch (error) {
        noteError(error.code ?? error.name ?? 'error', String(error.message ?? error).slice(0, 300));
      }
      const ended = performance.now();
      if (windowStart !== undefined && windowEnd === undefined) {
        if (ok) {
          inWindow.ok += 1;
          inWindow.bytes += file.size;
          inWindow.latencies.push(ended - began);
        } else inWindow.errors += 1;
      } else if (ok) outside.ok += 1;
      else outside.errors += 1;
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, loop));
  clearTimeout(startTimer);
  clearTimeout(endTimer);
  await runner.close();

  const seconds = (windowEnd - windowStart) / 1000;
  process.send({
    type: 'result',
    result: {
      seconds,
      uploads: inWindow.ok,
      uploadsPerSecond: inWindow.ok / seconds,
      megabytesPerSecond: inWindow.bytes / 1e6 / seconds,
      meanFileBytes: inWindow.ok ? inWindow.bytes / inWindow.ok : 0,
      latencyMs: summarise(inWindow.latencies),
      latencies: inWindow.latencies.map((ms) => Math.round(ms * 100) / 100),
      errorsInWindow: inWindow.errors,
      errorsTotal: inWindow.errors + outside.errors,
      okOutsideWindow: outside.ok,
      errorKinds: Object.fromEntries(errorKinds),
    },
  });
}

process.once('message', (config) => {
  main(config).then(
    () => process.disconnect(),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
});
