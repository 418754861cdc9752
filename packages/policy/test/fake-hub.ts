// A local stand-in for the Hugging Face hub on 127.0.0.1, with the URL layout @huggingface/hub calls
// (learned by logging its requests):
//   GET /api/models/<org>/<name>/tree/<rev>?recursive=false&expand=false  -> JSON [{ type, path, size, oid, lfs? }]
//   GET /<org>/<name>/resolve/<rev>/<file>  (first with Range: bytes=0-0 to learn size and ETag, then the body,
//       with Range: bytes=<from>-<to> when resuming); *.safetensors are "LFS" files: the tree lists their sha256
//       as lfs.oid and resolve redirects (302) to /cdn/<sha256>, as the hub redirects to its CDN.
// Unknown repos answer 404 with X-Error-Code RepositoryNotFound, unknown files 404 EntryNotFound.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface Fault {
  /** Which file (repo-relative) the fault applies to. */
  file: string;
  /** Drop the connection after sending this many body bytes of each response. */
  dropAfter?: number;
  /** Serve a corrupted copy (one byte flipped, same length). */
  corrupt?: boolean;
  /** Answer Range requests (other than the bytes=0-0 probe) with 200 and the whole file, as some servers do. */
  ignoreRange?: boolean;
}

export interface FakeHub {
  url: string;
  /** "METHOD path range" per request, in order. */
  requests: string[];
  fault: Fault | null;
  close(): Promise<void>;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

/** Serves `repos` (hub id -> local folder) at revision `main`. */
export async function startFakeHub(repos: Record<string, string>): Promise<FakeHub> {
  const files = new Map<string, Map<string, Buffer>>();
  for (const [id, dir] of Object.entries(repos)) {
    files.set(id, new Map(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f))])));
  }
  const byHash = new Map<string, { name: string; body: Buffer }>();
  for (const repo of files.values()) for (const [name, body] of repo) if (name.endsWith('.safetensors')) byHash.set(sha256(body), { name, body });

  const hub: FakeHub = { url: '', requests: [], fault: null, close: async () => undefined };
  const notFound = (res: http.ServerResponse, code: string, message: string): void => {
    res.writeHead(404, { 'content-type': 'application/json', 'x-error-code': code });
    res.end(JSON.stringify({ error: message }));
  };
  const sendBody = (req: http.IncomingMessage, res: http.ServerResponse, name: string, body: Buffer): void => {
    const fault = hub.fault && hub.fault.file === name ? hub.fault : null;
    if (fault?.corrupt) body = Buffer.from(body.map((x, i) => (i === body.length >> 1 ? x ^ 0xff : x)));
    let range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (fault?.ignoreRange && range && req.headers.range !== 'bytes=0-0') range = null;
    const headers: http.OutgoingHttpHeaders = { etag: `"${sha256(body)}"`, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    let start = 0;
    let end = body.length - 1;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
      headers['content-range'] = `bytes ${start}-${end}/${body.length}`;
    }
    const part = body.subarray(start, end + 1);
    headers['content-length'] = part.length;
    res.writeHead(range ? 206 : 200, headers);
    const probe = range && start === 0 && end === 0;
    if (fault?.dropAfter !== undefined && !probe && part.length > fault.dropAfter) {
      // FIN after the bytes (a reset could discard bytes the client has not read yet): a body shorter than its length
      res.write(part.subarray(0, fault.dropAfter), () => res.socket?.end());
      return;
    }
    res.end(part);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hub.requests.push(`${req.method} ${url.pathname}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const tree = /^\/api\/models\/(.+)\/tree\/([^/]+)$/.exec(url.pathname);
    if (tree) {
      const repo = files.get(decodeURIComponent(tree[1]!));
      if (!repo || tree[2] !== 'main') return notFound(res, 'RepositoryNotFound', 'Repository not found');
      const entries = [...repo].map(([p, b]) =>
        p.endsWith('.safetensors')
          ? { type: 'file', path: p, size: b.length, oid: gitSha1(Buffer.from(`pointer ${sha256(b)}`)), lfs: { oid: sha256(b), size: b.length, pointerSize: 134 } }
          : { type: 'file', path: p, size: b.length, oid: gitSha1(b) },
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(entries));
      return;
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) {
      const obj = byHash.get(cdn[1]!);
      return obj ? sendBody(req, res, obj.name, obj.body) : notFound(res, 'EntryNotFound', 'no such object');
    }
    const resolve = /^\/(.+)\/resolve\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (resolve) {
      const repo = files.get(decodeURIComponent(resolve[1]!));
      if (!repo || resolve[2] !== 'main') return notFound(res, 'RepositoryNotFound', 'Repository not found');
      const name = decodeURIComponent(resolve[3]!);
      const body = repo.get(name);
      if (!body) return notFound(res, 'EntryNotFound', 'Entry not found');
      if (name.endsWith('.safetensors')) {
        res.writeHead(302, { location: `/cdn/${sha256(body)}`, 'x-linked-size': String(body.length), 'x-linked-etag': `"${sha256(body)}"` });
        res.end();
        return;
      }
      return sendBody(req, res, name, body);
    }
    notFound(res, 'RepositoryNotFound', 'Not found');
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return hub;
}
