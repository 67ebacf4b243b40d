// Gallery: seed many rows fast, then time the first page and a page deep in the history.
import { Pool } from 'undici';
import { v7 as uuidv7 } from 'uuid';
import { summarise } from './stats.mjs';

const pad = (n, width = 2) => String(n).padStart(width, '0');
const sqlDate = (d) =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
  `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;

/**
 * Inserts `rows` images, one per second of history ending now, with UUIDv7 ids in increasing
 * time order and unique keys `<id>.jpg`; multi-row INSERTs of `batch` rows in one transaction.
 * @param {import('mysql2/promise').Connection} connection
 */
export async function seedImages(connection, { rows, batch = 5000, urlPrefix }) {
  const started = performance.now();
  await connection.query('SET unique_checks = 0, foreign_key_checks = 0');
  await connection.query('START TRANSACTION');
  const first = Date.now() - rows * 1000;
  for (let from = 0; from < rows; from += batch) {
    const values = [];
    for (let i = from; i < Math.min(rows, from + batch); i++) {
      const msecs = first + i * 1000;
      const id = uuidv7({ msecs, seq: 0 });
      const key = `${id}.jpg`;
      const sha = (i.toString(16).padStart(8, '0') + id.replaceAll('-', '')).padEnd(64, '0').slice(0, 64);
      values.push(
        `('${id}','Seeder ${i % 997}','${urlPrefix}/${key}','${key}',${100_000 + (i % 900_000)},'image/jpeg',640,480,'${sha}','photo-${i}.jpg','${sqlDate(new Date(msecs))}')`,
      );
    }
    await connection.query(
      `INSERT INTO images (id, uploader_name, url, object_key, size_bytes, content_type, width, height, sha256, original_filename, created_at) VALUES ${values.join(',')}`,
    );
  }
  await connection.query('COMMIT');
  await connection.query('SET unique_checks = 1, foreign_key_checks = 1');
  return { rows, seconds: (performance.now() - started) / 1000 };
}

/**
 * Times GET /images?limit=24 as JSON and as HTML, on the first page and after `deepCursor`,
 * interleaved request by request so background load hits all four alike.
 */
export async function timeGallery(origin, { deepCursor, requests, warmup = 20 }) {
  const pool = new Pool(origin, { connections: 1, pipelining: 1 });
  const cases = {
    'first page JSON': { path: '/images?limit=24', accept: 'application/json' },
    'first page HTML': { path: '/images?limit=24', accept: 'text/html' },
    'deep page JSON': { path: `/images?limit=24&cursor=${deepCursor}`, accept: 'application/json' },
    'deep page HTML': { path: `/images?limit=24&cursor=${deepCursor}`, accept: 'text/html' },
  };
  const timings = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const checks = {};
  for (let round = 0; round < warmup + requests; round++) {
    for (const [name, c] of Object.entries(cases)) {
      const began = performance.now();
      const { statusCode, body } = await pool.request({ path: c.path, method: 'GET', headers: { accept: c.accept } });
      const text = await body.text();
      const ms = performance.now() - began;
      if (statusCode !== 200) throw new Error(`${name}: HTTP ${statusCode}: ${text.slice(0, 200)}`);
      if (round >= warmup) timings[name].push(ms);
      if (round === 0) {
        checks[name] = c.accept.includes('json')
          ? (() => {
              const page = JSON.parse(text);
              return { items: page.items.length, firstId: page.items[0]?.id, nextCursor: page.nextCursor };
            })()
          : { items: (text.match(/class="card"/g) ?? []).length, bytes: text.length };
      }
    }
  }
  await pool.close();
  return Object.fromEntries(
    Object.entries(timings).map(([name, values]) => [name, { ...summarise(values), check: checks[name] }]),
  );
}
