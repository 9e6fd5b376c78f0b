// What the gateway answers when Node's HTTP server gives up on a request before fastify could
// (fastify's clientErrorHandler): a request that did not arrive within BODY_TIMEOUT (408),
// headers too large (431), bytes that are not HTTP (400) — in OpenAI's shape, like every
// other refusal. A request that already reached fastify has a response object: the answer
// goes through it, so the access log and metrics see it; otherwise it is written to the socket.
// A request answered before its body ended (refused before the body was read) has had its
// answer: when the rest of its body does not arrive in time, the connection is just closed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { OpenAIError, bodyTimeout } from './openai-error.ts';

interface ClientError extends Error {
  code?: string;
}

/** Per connection, the last request answered before its body had ended. */
export type AnsweredEarly = WeakMap<Socket, IncomingMessage>;

export function clientErrorHandler(
  bodyTimeoutMs: number,
  onRefusal: (reason: string) => void,
  answeredEarly: AnsweredEarly = new WeakMap(),
): (error: ClientError, socket: Socket) => void {
  return (error, socket) => {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    // Node's own name for the response in flight on this socket (it keeps one per socket).
    const response = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    // Nothing in flight, and the request answered last is still sending its body: a second
    // answer to it would be one the caller never asked for.
    if (!response && answeredEarly.get(socket)?.complete === false) return void socket.destroy();
    const refusal = refusalFor(error, bodyTimeoutMs);
    onRefusal(refusal.reason);
    const body = JSON.stringify(refusal.toBody());
    if (response) {
      // Part of an answer is out already: anything written now would corrupt it.
      if (response.headersSent) return void socket.destroy();
      response.writeHead(refusal.statusCode, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...refusal.headers,
        connection: 'close',
      });
      // Node takes a request it answered off the socket's books: end it here, so whoever reads
      // its body (a body streaming upstream) hears it was cut off.
      response.end(body, () => response.req.destroy());
      return;
    }
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${refusal.statusCode} ${statusText(refusal.statusCode)}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

function refusalFor(error: ClientError, bodyTimeoutMs: number): OpenAIError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return bodyTimeout(bodyTimeoutMs);
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return new OpenAIError({
      status: 431,
      type: 'invalid_request_error',
      reason: 'headers_too_large',
      message: 'The request headers are larger than the gateway accepts.',
    });
  }
  return new OpenAIError({
    status: 400,
    type: 'invalid_request_error',
    reason: 'malformed_http',
    message: 'The request is not valid HTTP/1.1.',
  });
}

function statusText(status: number): string {
  return status === 408
    ? 'Request Timeout'
    : status === 431
      ? 'Request Header Fields Too Large'
      : 'Bad Request';
}
