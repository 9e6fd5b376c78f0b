// An upstream that records every request exactly as it arrived (method, path, every header,
// the body's bytes, whether the body was complete) and answers what the test tells it to:
// for asserting what the gateway sends to LiteLLM and what it passes back.
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** False when the connection ended before the body did. */
  complete: boolean;
}

export interface Answer {
  /** Waits this long after the request before answering. */
  delayMs?: number;
  status?: number;
  headers?: OutgoingHttpHeaders;
  body?: string;
}

export interface RecordingUpstream {
  /** http://127.0.0.1:PORT, as LITELLM_URL. */
  url: string;
  readonly requests: readonly RecordedRequest[];
  /** What the next requests are answered (a JSON chat completion by default). */
  answer(answer: Answer): void;
  /** Answers a request its own way; undefined: what answer() set. */
  respond: (request: RecordedRequest) => Answer | undefined;
  stop(): Promise<void>;
}

const DEFAULT_ANSWER: Answer = {
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  }),
};

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const requests: RecordedRequest[] = [];
  let current = DEFAULT_ANSWER;
  const upstream: RecordingUpstream = {
    url: '',
    requests,
    answer(answer) {
      current = { ...DEFAULT_ANSWER, ...answer };
    },
    respond: () => undefined,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    const record = (complete: boolean) =>
      requests.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks),
        complete,
      });
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      record(true);
      const own = upstream.respond(requests.at(-1)!);
      const { delayMs = 0, status = 200, headers = {}, body = '' } = own ?? current;
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(status, headers);
        res.end(body);
      }, delayMs);
    });
    req.once('aborted', () => record(false));
    req.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  upstream.url = `http://127.0.0.1:${port}`;
  return upstream;
}
