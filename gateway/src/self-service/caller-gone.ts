// An AbortSignal for "the caller went away before the answer was written". fastify's
// request.signal cannot tell: it listens to the request's 'close', which Node emits as soon
// as the body has been read (so at once for every POST). The response's 'close' comes when
// the connection ends; before the answer finished, that is the caller leaving.
import type { FastifyReply } from 'fastify';

export function callerGone(reply: FastifyReply): AbortSignal {
  const abort = new AbortController();
  const raw = reply.raw;
  raw.once('close', () => {
    if (!raw.writableFinished) abort.abort();
  });
  return abort.signal;
}
