import { randomBytes } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { StorageUnavailableError } from '../domain/errors.js';
import { messages } from '../domain/messages.js';
import type { BlobStore } from './blob-store.js';

export interface S3BlobStoreOptions {
  bucket: string;
  region: string;
  /** An S3-compatible server (MinIO, s3rver, ...); unset for AWS. */
  endpoint?: string;
  forcePathStyle: boolean;
  acl: 'public-read' | 'none';
  publicBaseUrl?: string;
  cacheControl: string;
  /** Per attempt; default 8 s (a 1 MiB put takes well under a second from EC2). */
  requestTimeoutMs?: number;
}

/** Keys the app writes for its own checks; never images, never listed. */
const PROBE_PREFIX = '.snapstore/';
const WRITE_PROBE_INTERVAL_MS = 60_000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Images in an S3 bucket (or an S3-compatible server), published at their object URL. */
export class S3BlobStore implements BlobStore {
  readonly description: string;
  private readonly client: S3Client;
  private writeProbeOkAt = 0;
  private readonly probeId = randomBytes(4).toString('hex');

  constructor(private readonly options: S3BlobStoreOptions) {
    this.description = `s3://${options.bucket}`;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      // Credentials come from the default provider chain (an instance role on EC2).
      // Checksums only where an operation requires them: by default the SDK would add a CRC32
      // it computes itself, which for streamed bodies means an aws-chunked body that some
      // S3-compatible servers store verbatim. We send a Buffer and sign our own SHA-256 of it
      // (below), which S3 checks against the body it receives and refuses on a mismatch.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      // Without throwOnRequestTimeout the handler only logs a warning and waits forever.
      requestHandler: {
        connectionTimeout: 3_000,
        requestTimeout: options.requestTimeoutMs ?? 8_000,
        throwOnRequestTimeout: true,
      },
    });
  }

  async put(key: string, bytes: Buffer, options: { contentType: string; sha256: string }): Promise<void> {
    // A refused write means the last probe's verdict no longer holds.
    const failed = () => (this.writeProbeOkAt = 0);
    const input = {
      Bucket: this.options.bucket,
      Key: key,
      Body: bytes,
      ContentLength: bytes.length,
      ContentType: options.contentType,
      CacheControl: this.options.cacheControl,
      ...(this.options.acl === 'none' ? {} : { ACL: this.options.acl }),
    };
    const command = new PutObjectCommand(input);
    // SigV4 signs a SHA-256 of the body; we have it already, so the SDK need not hash it again.
    // S3 verifies the body against this signed hash, so an x-amz-checksum-sha256 header would
    // only make both ends hash the same bytes a second time.
    command.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers) request.headers['x-amz-content-sha256'] = options.sha256;
        return next(args);
      },
      { step: 'build', name: 'snapstorePayloadHash' },
    );
    await this.call((s3) => s3.send(command)).catch((error: unknown) => {
      failed();
      throw error;
    });
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const response = await this.call((s3) =>
        s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key })),
      );
      return Buffer.from(await response.Body!.transformToByteArray());
    } catch (error) {
      if (error instanceof StorageUnavailableError && error.cause instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.call((s3) => s3.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key })));
  }

  async *listKeys(): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const input = { Bucket: this.options.bucket, ContinuationToken: token };
      const page = await this.call((s3) => s3.send(new ListObjectsV2Command(input)));
      for (const object of page.Contents ?? [])
        if (object.Key && !object.Key.startsWith(PROBE_PREFIX)) yield object.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  publicUrl(key: string): string {
    const { bucket, region, endpoint, forcePathStyle, publicBaseUrl } = this.options;
    if (publicBaseUrl) return `${publicBaseUrl}/${key}`;
    if (endpoint) {
      if (forcePathStyle) return `${endpoint}/${bucket}/${key}`;
      const url = new URL(endpoint);
      return `${url.protocol}//${bucket}.${url.host}/${key}`;
    }
    return `https://${bucket}.s3.${region}.amazonaws.com/${key}`;
  }

  /**
   * Reachable bucket, and (at most once a minute while it works) a real write with the
   * configured ACL, so that a bucket refusing ACLs or a missing permission shows here rather
   * than on the first upload.
   */
  async check(): Promise<void> {
    await this.call((s3) => s3.send(new HeadBucketCommand({ Bucket: this.options.bucket })));
    if (Date.now() - this.writeProbeOkAt < WRITE_PROBE_INTERVAL_MS) return;
    // One key per process: several instances probing one key at once trip some servers.
    const key = `${PROBE_PREFIX}readiness-probe-${process.pid}-${this.probeId}`;
    await this.put(key, Buffer.alloc(0), { contentType: 'application/octet-stream', sha256: EMPTY_SHA256 });
    await this.delete(key);
    this.writeProbeOkAt = Date.now();
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Runs an S3 call; every failure becomes a StorageUnavailableError that names the fix. */
  private async call<T>(operation: (client: S3Client) => Promise<T>): Promise<T> {
    try {
      return await operation(this.client);
    } catch (cause) {
      throw new StorageUnavailableError(this.explain(cause), { cause });
    }
  }

  private explain(error: unknown): string {
    const { bucket, region } = this.options;
    const name = (error as { name?: string })?.name ?? '';
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
    if (name === 'AccessControlListNotSupported') {
      return `The bucket ${bucket} has ACLs disabled, so objects cannot be made public-read: set S3_ACL=none and publish through a bucket policy or CloudFront (S3_PUBLIC_BASE_URL).`;
    }
    if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
      const actual = (error as { $response?: { headers?: Record<string, string> } }).$response?.headers?.[
        'x-amz-bucket-region'
      ];
      return `The bucket ${bucket} is not in S3_REGION=${region}: set S3_REGION to the bucket's region${actual ? ` (${actual})` : ''}.`;
    }
    if (name === 'NoSuchBucket' || (status === 404 && name === 'NotFound')) {
      return `The bucket ${bucket} does not exist: create it or fix S3_BUCKET.`;
    }
    if (name === 'CredentialsProviderError') {
      return 'No AWS credentials were found: run on an instance with an IAM role, or set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.';
    }
    if (['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden'].includes(name) || status === 403) {
      return `Access to the bucket ${bucket} was denied: check the credentials and that the IAM role allows s3:PutObject${this.options.acl === 'none' ? '' : ', s3:PutObjectAcl'} and s3:DeleteObject on it.`;
    }
    return messages.storageUnavailable;
  }
}
