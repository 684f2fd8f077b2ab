// A tiny Nx remote cache server implementing Nx's self-hosted cache OpenAPI spec (Nx >= 20.8):
//   GET /v1/cache/{hash}  -> 200 + the task's tar archive (application/octet-stream) | 404 not cached
//   PUT /v1/cache/{hash}  -> 200 stored | 400/411 bad Content-Length | 409 already stored (records are immutable)
//                            | 413 larger than the body cap (answered before reading the body)
//   Authorization: Bearer <token> on every request -> 401 missing/wrong token; 403 the read-only token writing.
// Nx talks to it when NX_SELF_HOSTED_REMOTE_CACHE_SERVER=<url> (and NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN=<token>).
// Good enough for a lab: several machines running `nx run-many` partitions share results. For production use a
// maintained server (TLS, eviction). Run: tsx tools/nx-plugin/src/remote-cache-server.ts --dir D --port P --token T
//
// Records are task outputs that other machines restore and trust, so the server never runs open by accident: it
// refuses to start without a token unless it is bound to a loopback address and told allowAnonymousLoopback.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface RemoteCacheServer {
  url: string;
  dir: string;
  /** Requests served, for tests and logs. */
  stats: { hits: number; misses: number; stored: number; conflicts: number; denied: number; tooLarge: number };
  close(): Promise<void>;
}

export interface RemoteCacheServerOptions {
  dir: string;
  port?: number;
  /** bind address; default 127.0.0.1 */
  host?: string;
  /** read-write token: GET and PUT */
  token?: string;
  /** read-only token: GET only (PUT -> 403) */
  readOnlyToken?: string;
  /** serve without any token; only allowed on a loopback host */
  allowAnonymousLoopback?: boolean;
  /** largest PUT body in bytes (default DEFAULT_MAX_BODY_BYTES) */
  maxBodyBytes?: number;
}

/**
 * 4 GiB: an Nx record here is one stage's run folders as a tar, the largest being a ResNet-50 pretext checkpoint
 * with its optimizer state (~0.3 GiB) or mined ImageNet features; 4 GiB leaves room for those while one client
 * cannot fill the disk with a single request. Bodies stream to disk, so the cap bounds disk, not memory.
 */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 ** 3;

const HASH = /^\/v1\/cache\/([A-Za-z0-9_.-]+)$/;

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Why these options must not start a server, or null. */
export function refusalReason(opts: RemoteCacheServerOptions): string | null {
  const host = opts.host ?? '127.0.0.1';
  for (const [key, value] of [
    ['token', opts.token],
    ['readOnlyToken', opts.readOnlyToken],
  ] as const) {
    if (value != null && value.length < 8)
      return `remote cache server: ${key} has ${value.length} characters, expected at least 8`;
  }
  if (opts.token != null && opts.token === opts.readOnlyToken)
    return 'remote cache server: token and readOnlyToken are the same, expected two different tokens';
  if (opts.maxBodyBytes != null && !(Number.isSafeInteger(opts.maxBodyBytes) && opts.maxBodyBytes > 0)) {
    return `remote cache server: maxBodyBytes ${opts.maxBodyBytes} is not a positive integer`;
  }
  if (opts.token == null && opts.readOnlyToken == null) {
    if (!isLoopbackHost(host))
      return `remote cache server: host '${host}' is not a loopback address, so a token is required (--token)`;
    if (!opts.allowAnonymousLoopback)
      return 'remote cache server: no token given; pass --token, or --allow-anonymous-loopback to serve anyone on this machine';
  }
  return null;
}

function sameToken(given: string, expected: string | undefined): boolean {
  if (expected == null) return false;
  const a = Buffer.from(given),
    b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startRemoteCacheServer(opts: RemoteCacheServerOptions): Promise<RemoteCacheServer> {
  const refused = refusalReason(opts);
  if (refused) throw new Error(refused);
  const dir = resolve(opts.dir);
  const host = opts.host ?? '127.0.0.1';
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const anonymous = opts.token == null && opts.readOnlyToken == null;
  await mkdir(dir, { recursive: true });
  const stats = { hits: 0, misses: 0, stored: 0, conflicts: 0, denied: 0, tooLarge: 0 };
  // an answer before the body is read closes the connection, so the unread body is never received
  const text = (res: ServerResponse, code: number, msg: string, close = false) => {
    res.writeHead(code, { 'content-type': 'text/plain', ...(close ? { connection: 'close' } : {}) }).end(msg);
  };

  async function put(req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
    const header = req.headers['content-length'];
    if (header == null) return text(res, 411, 'Content-Length header required', true);
    const length = Number(header);
    if (!Number.isSafeInteger(length) || length < 0) return text(res, 400, `invalid Content-Length '${header}'`, true);
    if (length > maxBody) {
      stats.tooLarge++;
      return text(res, 413, `body of ${length} bytes exceeds the ${maxBody}-byte limit`, true);
    }
    if (
      await stat(file).then(
        () => true,
        () => false,
      )
    ) {
      stats.conflicts++;
      return text(res, 409, 'record exists', true);
    }
    const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    let received = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        done(received > length ? new Error(`more than the announced ${length} bytes`) : null, chunk);
      },
    });
    try {
      await pipeline(req, count, createWriteStream(tmp, { flags: 'wx' }));
      if (received !== length) throw new Error(`Content-Length ${length} but ${received} bytes received`);
      await rename(tmp, file); // atomic: a concurrent GET sees all or nothing
    } catch (e) {
      await rm(tmp, { force: true });
      if (!res.headersSent && !res.destroyed) text(res, 400, (e as Error).message, true);
      return;
    }
    stats.stored++;
    text(res, 200, 'stored');
  }

  const server: Server = createServer(async (req, res) => {
    try {
      const m = HASH.exec(req.url ?? '');
      if (!m) return text(res, 404, 'not found: expected /v1/cache/{hash}', true);
      const auth = req.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      const canWrite = anonymous || sameToken(token, opts.token);
      const canRead = canWrite || sameToken(token, opts.readOnlyToken);
      if (!canRead) {
        stats.denied++;
        return text(res, 401, 'missing or invalid bearer token', true);
      }
      const file = join(dir, m[1]!);
      if (req.method === 'GET') {
        const size = await stat(file).then(
          (s) => s.size,
          () => null,
        );
        if (size == null) {
          stats.misses++;
          return text(res, 404, 'no record for this hash');
        }
        stats.hits++;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
        await pipeline(createReadStream(file), res);
        return;
      }
      if (req.method === 'PUT') {
        if (!canWrite) {
          stats.denied++;
          return text(res, 403, 'this token may only read', true);
        }
        return await put(req, res, file);
      }
      res.setHeader('allow', 'GET, PUT');
      return text(res, 405, 'method not allowed', true);
    } catch (e) {
      if (!res.headersSent) return text(res, 500, (e as Error).message, true);
      res.destroy();
    }
  });
  await new Promise<void>((ok, ko) => {
    server.once('error', ko);
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const addr = server.address() as import('node:net').AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`,
    dir,
    stats,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  try {
    const { values } = parseArgs({
      options: {
        dir: { type: 'string', default: '.cache/nx-remote' },
        port: { type: 'string', default: '8090' },
        host: { type: 'string', default: '127.0.0.1' },
        token: { type: 'string' },
        'read-only-token': { type: 'string' },
        'allow-anonymous-loopback': { type: 'boolean', default: false },
        'max-body-mb': { type: 'string' },
      },
    });
    const maxMb = values['max-body-mb'];
    if (maxMb != null && !(Number(maxMb) > 0))
      throw new Error(`remote cache server: --max-body-mb '${maxMb}' is not a positive number`);
    const s = await startRemoteCacheServer({
      dir: values.dir!,
      port: Number(values.port),
      host: values.host,
      token: values.token ?? (process.env.NX_CACHE_TOKEN || undefined),
      readOnlyToken: values['read-only-token'] ?? (process.env.NX_CACHE_READ_TOKEN || undefined),
      allowAnonymousLoopback: values['allow-anonymous-loopback'],
      maxBodyBytes: maxMb == null ? undefined : Math.floor(Number(maxMb) * 1024 ** 2),
    });
    process.stdout.write(
      `nx remote cache at ${s.url} (records in ${s.dir})\nexport NX_SELF_HOSTED_REMOTE_CACHE_SERVER=${s.url}\n`,
    );
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
}
