// An upstream that records every request it receives — any method, path and body, byte for
// byte — and answers each with a small JSON 200, or what the test's `answer` says. Tests of the gateway's boundary put it where
// LiteLLM would be and assert on what did (or did not) reach it.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** The request target as received (path and query). */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Answer {
  status: number;
  type: string;
  body: string;
}

export interface RecordingUpstream {
  /** http://127.0.0.1:port, for LITELLM_URL. */
  url: string;
  readonly requests: RecordedRequest[];
  /** Answers a request its own way; undefined: the default 200. */
  answer: (request: RecordedRequest) => Answer | undefined;
  stop(): Promise<void>;
}

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const requests: RecordedRequest[] = [];
  const upstream = {
    url: '',
    requests,
    answer: (() => undefined) as RecordingUpstream['answer'],
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(request);
      const answer = upstream.answer(request) ?? {
        status: 200,
        type: 'application/json',
        body: '{"object":"recorded"}',
      };
      res.writeHead(answer.status, { 'content-type': answer.type });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  upstream.url = `http://127.0.0.1:${port}`;
  return Object.assign(upstream, {
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
