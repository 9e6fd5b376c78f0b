// The last onRequest hook, after the route guard and the key check: everything about a request
// that needs no body has passed by now, so a refusal here still leaves the body unread (and
// the connection in step, Node reading past it), like theirs. A compressed body is refused
// (415): the model is read from the body, and LiteLLM decodes none. Only then is a client
// that asked `Expect: 100-continue` told to send its body (app.ts holds back Node's own).
import type { onRequestHookHandler } from 'fastify';
import { encodedBody } from '../errors/openai-error.ts';

export const bodyGate: onRequestHookHandler = (request, reply, done) => {
  const { method, headers } = request;
  if (method !== 'GET' && method !== 'HEAD') {
    const encoding = headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return done(encodedBody(encoding));
  }
  if (headers.expect !== undefined) reply.raw.writeContinue();
  done();
};
