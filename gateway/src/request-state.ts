// What the gateway learns about a request on its way through, kept on the request so hooks
// (timing, access log, metrics) read one place.
import type { KeyPolicy } from '../../contracts/routing/schema.ts';
import type { Admission, AdmissionRequest } from './limits/rate-limiter.ts';
import type { Usage } from './proxy/usage-tap.ts';

export interface RequestState {
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** When the request went upstream, and when the upstream's headers came back. */
  forwardedAt?: number;
  upstreamHeadersAt?: number;
  /** The caller's key, only until the request is forwarded: never logged. */
  key?: string;
  policy?: KeyPolicy;
  model?: string;
  admission?: AdmissionRequest;
  countedBy?: Extract<Admission, { allowed: true }>['countedBy'];
  /** The window the admission was counted in (its settle names it). */
  window?: number | undefined;
  /** Aborts the upstream request when the caller goes away before its answer is written. */
  upstreamAbort?: AbortController;
  usage?: Usage;
  /** True once settle ran (it must run exactly once). */
  settled?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Raw JSON bytes as received, forwarded as they are unless the gateway changes the body. */
    rawBody: Buffer | undefined;
    state: RequestState;
  }
}

/** The gateway's own time: before forwarding, plus from the answer's headers to now. */
export function overheadMs(state: RequestState, now: number): number {
  if (state.forwardedAt === undefined || state.upstreamHeadersAt === undefined) {
    return now - state.startedAt;
  }
  return state.forwardedAt - state.startedAt + (now - state.upstreamHeadersAt);
}
