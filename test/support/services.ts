import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import mysql from 'mysql2/promise';
import { inject } from 'vitest';

export const mysqlUrl = inject('mysqlUrl');
export const s3Endpoint = inject('s3Endpoint');

const suffix = () => randomBytes(4).toString('hex');

/** A database of its own for one test file; `drop()` removes it. */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  if (!mysqlUrl) throw new Error('no MySQL for this run');
  const name = `snapstore_test_${suffix()}`;
  const admin = await mysql.createConnection({ uri: mysqlUrl });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  return {
    url: `${mysqlUrl.replace(/\/$/, '')}/${name}`,
    name,
    async drop() {
      const connection = await mysql.createConnection({ uri: mysqlUrl! });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

export function testS3Client(endpoint = s3Endpoint!): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}

/** A bucket of its own for one test file; `keys()` lists what is in it, `drop()` empties and removes it. */
export async function createTestBucket(): Promise<{
  bucket: string;
  keys(): Promise<string[]>;
  drop(): Promise<void>;
}> {
  const s3 = testS3Client();
  const bucket = `snapstore-test-${suffix()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const keys = async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (page.Contents ?? []).map((o) => o.Key!).sort();
  };
  return {
    bucket,
    keys,
    async drop() {
      for (const key of await keys()) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      s3.destroy();
    },
  };
}
