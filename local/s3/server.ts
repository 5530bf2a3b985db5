import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
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
//   DELETE                   403 AccessDenied (Object Lock in compliance mode, and the policy)
// Simulated: no versions, no retention dates, no checksums checked, no auth.

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

export async function startS3StandIn(options: {
  directory: string;
  bucket: string;
  port?: number;
}): Promise<RunningS3> {
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
      if (req.method === 'GET' && key) {
        if (!existsSync(file)) return error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(await readFile(file));
      }
      if (req.method === 'DELETE')
        return error(res, 403, 'AccessDenied', 'Objects are locked (compliance mode)');
      return error(res, 405, 'MethodNotAllowed', `${req.method} is not modelled`);
    } catch (e) {
      return error(res, 500, 'InternalError', (e as Error).message);
    }
  });
  const listening = await listen(server, options.port ?? 0);
  return { ...listening, bucket: options.bucket, directory: root, written: () => [...written] };
}
