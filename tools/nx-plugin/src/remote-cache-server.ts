// A tiny Nx remote cache server implementing Nx's self-hosted cache OpenAPI spec (Nx >= 20.8):
//   GET /v1/cache/{hash}  -> 200 + the task's tar archive (application/octet-stream) | 404 not cached
//   PUT /v1/cache/{hash}  -> 200 stored | 400 bad Content-Length | 409 already stored (records are immutable)
//   Authorization: Bearer <token> on every request -> 401 missing/wrong token; 403 a read-only token writing.
// Nx talks to it when NX_SELF_HOSTED_REMOTE_CACHE_SERVER=<url> (and NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN=<token>).
// Good enough for a lab: several machines running `nx run-many` partitions share results. For production use a
// maintained server (authentication, TLS, eviction). Run: tsx tools/nx-plugin/src/remote-cache-server.ts --dir D --port P --token T
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';

export interface RemoteCacheServer {
  url: string;
  dir: string;
  /** Requests served, for tests and logs. */
  stats: { hits: number; misses: number; stored: number; conflicts: number; denied: number };
  close(): Promise<void>;
}

const HASH = /^\/v1\/cache\/([A-Za-z0-9_.-]+)$/;

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startRemoteCacheServer(opts: { dir: string; port?: number; token?: string; readOnlyToken?: string; host?: string }): Promise<RemoteCacheServer> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const stats = { hits: 0, misses: 0, stored: 0, conflicts: 0, denied: 0 };
  const text = (res: import('node:http').ServerResponse, code: number, msg: string) => {
    res.writeHead(code, { 'content-type': 'text/plain' }).end(msg);
  };
  const server: Server = createServer(async (req, res) => {
    try {
      const m = HASH.exec(req.url ?? '');
      if (!m) return text(res, 404, 'not found: expected /v1/cache/{hash}');
      const auth = req.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      const canRead = !opts.token || token === opts.token || (!!opts.readOnlyToken && token === opts.readOnlyToken);
      if (!canRead) { stats.denied++; return text(res, 401, 'missing or invalid bearer token'); }
      const file = join(dir, m[1]);
      if (req.method === 'GET') {
        const data = await readFile(file).catch(() => null);
        if (!data) { stats.misses++; return text(res, 404, 'no record for this hash'); }
        stats.hits++;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length }).end(data);
        return;
      }
      if (req.method === 'PUT') {
        if (opts.token && token !== opts.token) { stats.denied++; return text(res, 403, 'this token may only read'); }
        const length = Number(req.headers['content-length']);
        if (!Number.isInteger(length) || length < 0) return text(res, 400, 'missing or invalid Content-Length header');
        if (await stat(file).then(() => true, () => false)) { stats.conflicts++; await body(req); return text(res, 409, 'record exists'); }
        const data = await body(req);
        if (data.length !== length) return text(res, 400, `Content-Length ${length} but ${data.length} bytes received`);
        const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
        await writeFile(tmp, data);
        await rename(tmp, file);   // atomic: a concurrent GET sees all or nothing
        stats.stored++;
        return text(res, 200, 'stored');
      }
      res.setHeader('allow', 'GET, PUT');
      return text(res, 405, 'method not allowed');
    } catch (e) {
      return text(res, 500, (e as Error).message);
    }
  });
  await new Promise<void>((ok, ko) => { server.once('error', ko); server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => ok()); });
  const addr = server.address() as import('node:net').AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${addr.port}`, dir, stats,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const { values } = parseArgs({ options: { dir: { type: 'string', default: '.cache/nx-remote' }, port: { type: 'string', default: '8090' }, token: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } } });
  const s = await startRemoteCacheServer({ dir: values.dir!, port: Number(values.port), token: values.token ?? process.env.NX_CACHE_TOKEN, host: values.host });
  process.stdout.write(`nx remote cache at ${s.url} (records in ${s.dir})\nexport NX_SELF_HOSTED_REMOTE_CACHE_SERVER=${s.url}\n`);
}
