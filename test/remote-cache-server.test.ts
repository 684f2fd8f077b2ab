// The self-hosted Nx remote cache server refuses to run open, keeps read-only clients from writing, and caps
// bodies: each refusal is exercised over real HTTP on 127.0.0.1.
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRemoteCacheServer, type RemoteCacheServer } from '@scan-repro/nx-plugin/src';
import { tempDir } from '@scan-repro/test-utils';

const RW = 'read-write-token-1';
const RO = 'read-only-token-22';
const CAP = 1000;
const dir = tempDir('nx-remote');
let server: RemoteCacheServer;

/** One request; `announce` overrides Content-Length, `send` is what is actually written before waiting. */
function call(
  method: string,
  path: string,
  opts: { token?: string; body?: Buffer; announce?: number } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((ok, ko) => {
    const url = new URL(path, server.url);
    const headers: Record<string, string | number> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body) headers['content-length'] = opts.announce ?? opts.body.length;
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', () => ok({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', ko);
    if (opts.body) req.write(opts.body);
    if (opts.announce == null || opts.announce === opts.body?.length) req.end();
  });
}

beforeAll(async () => {
  server = await startRemoteCacheServer({ dir, token: RW, readOnlyToken: RO, maxBodyBytes: CAP });
});
afterAll(async () => {
  await server?.close();
});

describe('remote cache server: start refusals', () => {
  it.each([
    [{}, /no token given; pass --token, or --allow-anonymous-loopback/],
    [{ host: '0.0.0.0' }, /host '0.0.0.0' is not a loopback address, so a token is required/],
    [{ host: '0.0.0.0', allowAnonymousLoopback: true }, /host '0.0.0.0' is not a loopback address/],
    [{ token: 'short' }, /token has 5 characters, expected at least 8/],
    [{ token: RW, readOnlyToken: RW }, /token and readOnlyToken are the same/],
    [{ token: RW, maxBodyBytes: 0 }, /maxBodyBytes 0 is not a positive integer/],
  ])('refuses %j', async (opts, reason) => {
    await expect(startRemoteCacheServer({ dir: join(dir, 'refused'), ...opts })).rejects.toThrow(reason);
  });

  it('serves anyone only on loopback when told so explicitly', async () => {
    const open = await startRemoteCacheServer({
      dir: join(dir, 'anon'),
      host: '127.0.0.1',
      allowAnonymousLoopback: true,
    });
    try {
      const put = await fetch(`${open.url}/v1/cache/h1`, { method: 'PUT', body: 'abc' });
      expect(put.status).toBe(200);
      expect(await (await fetch(`${open.url}/v1/cache/h1`)).text()).toBe('abc');
    } finally {
      await open.close();
    }
  });

  it('the command line prints one line and exits 1 without a token', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'tools/nx-plugin/src/remote-cache-server.ts', '--host', '0.0.0.0', '--dir', join(dir, 'cli')],
      {
        encoding: 'utf8',
        env: { ...process.env, NX_CACHE_TOKEN: '', NX_CACHE_READ_TOKEN: '' },
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      "remote cache server: host '0.0.0.0' is not a loopback address, so a token is required (--token)",
    );
  }, 60_000);
});

describe('remote cache server: requests', () => {
  it('GET and PUT want a token: 401 without or with a wrong one', async () => {
    expect((await call('GET', '/v1/cache/a')).status).toBe(401);
    expect((await call('GET', '/v1/cache/a', { token: 'not-the-token-at-all' })).status).toBe(401);
    expect((await call('PUT', '/v1/cache/a', { body: Buffer.from('x') })).status).toBe(401);
    expect((await call('PUT', '/v1/cache/a', { token: RW.slice(0, -1), body: Buffer.from('x') })).status).toBe(401);
  });

  it('the read-only token reads but gets 403 on PUT; the read-write token does both', async () => {
    expect((await call('GET', '/v1/cache/b', { token: RO })).status).toBe(404);
    const denied = await call('PUT', '/v1/cache/b', { token: RO, body: Buffer.from('ro') });
    expect(denied).toEqual({ status: 403, body: 'this token may only read' });
    expect((await call('PUT', '/v1/cache/b', { token: RW, body: Buffer.from('rw') })).status).toBe(200);
    expect(await call('GET', '/v1/cache/b', { token: RO })).toEqual({ status: 200, body: 'rw' });
    expect((await call('PUT', '/v1/cache/b', { token: RW, body: Buffer.from('again') })).status).toBe(409);
  });

  it('a body over the cap gets 413 before it is sent, and nothing is stored', async () => {
    // announce CAP + 1 bytes but send only 10: the answer must come without the rest
    const r = await call('PUT', '/v1/cache/big', { token: RW, body: Buffer.alloc(10), announce: CAP + 1 });
    expect(r.status).toBe(413);
    expect(r.body).toBe(`body of ${CAP + 1} bytes exceeds the ${CAP}-byte limit`);
    expect((await call('PUT', '/v1/cache/edge', { token: RW, body: Buffer.alloc(CAP, 7) })).status).toBe(200);
    expect((await call('GET', '/v1/cache/big', { token: RW })).status).toBe(404);
    expect(readdirSync(dir).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it('a body shorter than announced is not stored', async () => {
    const req = request(new URL('/v1/cache/short', server.url), {
      method: 'PUT',
      headers: { authorization: `Bearer ${RW}`, 'content-length': 100 },
    });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(40));
    await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect((await call('GET', '/v1/cache/short', { token: RW })).status).toBe(404);
    expect(readdirSync(dir).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });
});
