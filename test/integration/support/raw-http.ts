// One HTTP/1.1 exchange on its own TCP connection, every byte of the request as given: the
// request target unnormalised, headers in order (duplicates, any case), the body framed by
// Content-Length, chunked, both or neither, written in pieces with pauses. Node's and undici's
// clients would each fix some of that. The answer is read up to its end (1xx skipped), or until
// the connection closes.
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target as sent (path and query). */
  target: string;
  headers: [string, string][];
  /** The body's pieces, each written after `pauseMs`. */
  body: Buffer[];
  framing: 'content-length' | 'chunked' | 'both' | 'none';
  pauseMs: number;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Sends `request` to host:port; rejects when no complete answer arrives within `timeoutMs`. */
export function rawExchange(
  host: string,
  port: number,
  request: RawRequest,
  timeoutMs = 15_000,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let received = Buffer.alloc(0);
    let finished = false;
    const finish = (error: Error | undefined, answer?: RawAnswer) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer!);
    };
    const timer = setTimeout(
      () => finish(new Error(`no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        const answer = parseAnswer(received, false);
        if (answer) finish(undefined, answer);
      } catch (error) {
        finish(error as Error);
      }
    });
    const onEnd = () => {
      try {
        const answer = parseAnswer(received, true);
        finish(answer ? undefined : new Error('the connection closed without an answer'), answer);
      } catch (error) {
        finish(error as Error);
      }
    };
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    // A server that answers early and closes may reset what is still being written.
    socket.on('error', () => {});

    const total = request.body.reduce((n, b) => n + b.length, 0);
    const head = [`${request.method} ${request.target} HTTP/1.1`, `host: ${host}:${port}`];
    for (const [name, value] of request.headers) head.push(`${name}: ${value}`);
    if (request.framing === 'content-length' || request.framing === 'both') {
      head.push(`content-length: ${total}`);
    }
    if (request.framing === 'chunked' || request.framing === 'both') {
      head.push('transfer-encoding: chunked');
    }
    head.push('connection: close', '', '');
    const chunked = request.framing === 'chunked' || request.framing === 'both';
    const write = async () => {
      socket.write(Buffer.from(head.join('\r\n'), 'latin1'));
      for (const piece of request.body) {
        if (request.pauseMs > 0) await new Promise((r) => setTimeout(r, request.pauseMs));
        if (finished || socket.destroyed) return;
        if (piece.length === 0) continue;
        socket.write(
          chunked
            ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, CRLF])
            : piece,
        );
      }
      if (chunked && !finished && !socket.destroyed) socket.write('0\r\n\r\n');
    };
    socket.once('connect', () => void write());
  });
}

const CRLF = Buffer.from('\r\n');

/** The first non-1xx answer in `bytes`, or undefined while incomplete. */
function parseAnswer(bytes: Buffer, closed: boolean): RawAnswer | undefined {
  let offset = 0;
  for (;;) {
    const headEnd = bytes.indexOf('\r\n\r\n', offset);
    if (headEnd === -1) return undefined;
    const lines = bytes.subarray(offset, headEnd).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1]);
    if (!Number.isInteger(status)) throw new Error(`not an HTTP answer: ${lines[0]}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const start = headEnd + 4;
    if (status >= 100 && status < 200) {
      offset = start;
      continue;
    }
    if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const body = dechunk(bytes.subarray(start));
      return body === undefined ? undefined : { status, headers, body };
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (bytes.length - start < length) return undefined;
      return { status, headers, body: bytes.subarray(start, start + length) };
    }
    return closed ? { status, headers, body: bytes.subarray(start) } : undefined;
  }
}

function dechunk(bytes: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset);
    if (lineEnd === -1) return undefined;
    const size = parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error('a malformed chunked answer');
    if (size === 0)
      return bytes.indexOf('\r\n', lineEnd + 2) === -1 ? undefined : Buffer.concat(parts);
    if (bytes.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}
