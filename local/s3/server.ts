import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { type Listening, listen, readBody } from '../http';

// The audit archive bucket over the S3 REST API (path-style, as @aws-sdk/client-s3 speaks it to
// an IP endpoint), backed by a directory, with what the deployed bucket enforces:
//   PUT /{bucket}/{key}      only with If-None-Match: * (the bucket policy refuses any other
//                            PutObject: 403 AccessDenied); an existing key → 412 PreconditionFailed
//                            (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html)
//   GET /{bucket}/{key}      the object, or 404 NoSuchKey
//   GET /{bucket}?list-type=2[&prefix=]   ListObjectsV2 (one page)
//   HEAD /{bucket}/{key}     its headers
//   DELETE                   403 AccessDenied (Object Lock in compliance mode, and the policy)
// Object Lock as the bucket's default retention applies it: every object is locked in COMPLIANCE
// mode until its creation time plus the default retention period, which S3 computes at write
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html, "Bucket configuration"),
// shown on GET/HEAD as x-amz-object-lock-mode and x-amz-object-lock-retain-until-date, and by
//   GET /{bucket}/{key}?retention   GetObjectRetention
//   PUT /{bucket}/{key}?retention   403 AccessDenied (a compliance lock cannot be shortened, and
//                                   the bucket policy denies s3:PutObjectRetention)
// A delete is refused inside the retention and after it alike (the bucket policy).
// Simulated: no versions, no checksums checked, no auth; the creation time is the file's mtime.

export interface RunningS3 extends Listening {
  bucket: string;
  directory: string;
  /** Keys written so far, with the time each was written (ms). */
  written(): Array<{ key: string; at: number }>;
}

const xml = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function error(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(xml(`<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`));
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  if (!existsSync(root)) return [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .filter((key) => key.startsWith(prefix))
    .sort();
}

/** cdk.json `auditRetentionDays`, as deployed by default. */
export const DEFAULT_RETENTION_DAYS = 400;

export async function startS3StandIn(options: {
  directory: string;
  bucket: string;
  port?: number;
  /** The bucket's default retention (cdk.json auditRetentionDays). */
  retentionDays?: number;
  now?: () => number;
}): Promise<RunningS3> {
  const retentionMs = (options.retentionDays ?? DEFAULT_RETENTION_DAYS) * 86_400_000;
  const now = options.now ?? Date.now;
  const retainUntil = async (file: string) =>
    new Date((await stat(file)).mtimeMs + retentionMs).toISOString();
  const lockHeaders = async (file: string) => ({
    'x-amz-object-lock-mode': 'COMPLIANCE',
    'x-amz-object-lock-retain-until-date': await retainUntil(file),
  });
  const root = path.join(options.directory, options.bucket);
  const written: Array<{ key: string; at: number }> = [];
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const [, bucket = '', ...rest] = url.pathname.split('/');
      const key = rest.map(decodeURIComponent).join('/');
      if (bucket !== options.bucket) return error(res, 404, 'NoSuchBucket', `No bucket ${bucket}`);
      if (key.split('/').some((part) => part === '..')) return error(res, 400, 'InvalidArgument', 'bad key');
      const file = path.join(root, ...key.split('/'));
      if (url.searchParams.has('retention') && key) {
        if (!existsSync(file)) return error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
        if (req.method === 'PUT')
          return error(res, 403, 'AccessDenied', 'A compliance-mode retention cannot be changed');
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(
          xml(
            `<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>${await retainUntil(file)}</RetainUntilDate></Retention>`,
          ),
        );
      }
      if (req.method === 'PUT' && key) {
        const body = await readBody(req);
        if (req.headers['if-none-match'] !== '*')
          return error(
            res,
            403,
            'AccessDenied',
            'The bucket policy allows only PutObject with If-None-Match: *',
          );
        if (existsSync(file))
          return error(
            res,
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
          );
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, body, { flag: 'wx' });
        written.push({ key, at: Date.now() });
        res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
        return res.end();
      }
      if (req.method === 'GET' && !key && url.searchParams.get('list-type') === '2') {
        const keys = await listFiles(root, url.searchParams.get('prefix') ?? '');
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(
          xml(
            `<ListBucketResult><Name>${options.bucket}</Name><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>${keys
              .map((k) => `<Contents><Key>${escapeXml(k)}</Key></Contents>`)
              .join('')}</ListBucketResult>`,
          ),
        );
      }
      if ((req.method === 'GET' || req.method === 'HEAD') && key) {
        if (!existsSync(file)) {
          if (req.method === 'HEAD') {
            res.writeHead(404);
            return res.end();
          }
          return error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
        }
        res.writeHead(200, { 'content-type': 'application/json', ...(await lockHeaders(file)) });
        return res.end(req.method === 'HEAD' ? undefined : await readFile(file));
      }
      if (req.method === 'DELETE') {
        const locked = existsSync(file) && Date.parse(await retainUntil(file)) > now();
        return error(
          res,
          403,
          'AccessDenied',
          locked ? 'The object is locked in compliance mode' : 'The bucket policy denies every delete',
        );
      }
      return error(res, 405, 'MethodNotAllowed', `${req.method} is not modelled`);
    } catch (e) {
      return error(res, 500, 'InternalError', (e as Error).message);
    }
  });
  const listening = await listen(server, options.port ?? 0);
  return { ...listening, bucket: options.bucket, directory: root, written: () => [...written] };
}
