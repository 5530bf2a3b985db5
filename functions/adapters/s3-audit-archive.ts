import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AuditArchive } from '../core/audit-archive';

// The archive bucket (Object Lock, compliance mode: its default retention locks every object it
// is given). PutObject with If-None-Match: * writes only a new key; S3 answers 412
// PreconditionFailed when the key exists (a redelivered stream record), and the bucket policy
// refuses any PutObject without that header, so no role can overwrite an archived event.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html

export class S3AuditArchive implements AuditArchive {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string): Promise<'written' | 'exists'> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          IfNoneMatch: '*',
          // Object Lock requires an integrity checksum on every PutObject.
          ChecksumAlgorithm: 'SHA256',
        }),
      );
      return 'written';
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((error as Error).name === 'PreconditionFailed' || status === 412) return 'exists';
      throw error;
    }
  }
}
