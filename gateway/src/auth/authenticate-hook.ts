// The key is checked in onRequest, the first hook after routing and before fastify reads
// the body: a request without a valid key is refused with its body unread (and never buffered),
// whatever its size. A client that asked `Expect: 100-continue` (curl does for large bodies)
// is told to send its body only once its key passed (body/body-gate.ts, the hook after this
// one). Callback-style, so a cached key costs no promise.
import type { onRequestHookHandler } from 'fastify';
import type { RoutingView } from '../routing/routing-view.ts';
import { authenticate, type Caller } from './authenticate.ts';
import type { KeyReader } from './key-from-request.ts';

export function authenticateOnRequest(view: RoutingView, reader: KeyReader): onRequestHookHandler {
  return function authenticateRequest(request, _reply, done) {
    let caller: Caller | Promise<Caller>;
    try {
      caller = authenticate(request.headers, view, reader);
    } catch (err) {
      return done(err as Error);
    }
    if (caller instanceof Promise) {
      caller.then((found) => {
        request.state.key = found.key;
        request.state.policy = found.policy;
        done();
      }, done);
      return;
    }
    request.state.key = caller.key;
    request.state.policy = caller.policy;
    done();
  };
}
