// Fault injection for the test server: make LiteLLM slow, failing, hanging or cutting
// connections, for the calls matching a route pattern, for the next N calls or until cleared.
// Set programmatically (server.faults.add) or over HTTP (POST /__test/faults).
//
//   { route: '/key/*', method: 'POST', status: 503, retryAfter: 2, times: 3 }
//   { route: '/team/info', latencyMs: 500 }            slow, then answered normally
//   { route: '*', hang: true }                         never answered (until cleared/stop)
//   { route: '/user/new', drop: true, times: 1 }       the socket is destroyed, no response
//
// A fault with a status answers with `body` or a LiteLLM-shaped error for that status
// ({error: {message, type, param, code}}), plus a Retry-After header when `retryAfter` is set.
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface FaultSpec {
  /** Path pattern, `*` matching anything (also `/`): `/key/*`, `/team/new`, `*`. Default `*`. */
  route?: string;
  /** Only this method (GET, POST …). Default: any. */
  method?: string;
  /** Delay before the request is handled (or before the fault's answer). */
  latencyMs?: number;
  /** Answer with this status instead of handling the request. */
  status?: number;
  /** Body for `status`; default a LiteLLM ProxyException body. */
  body?: unknown;
  /** Retry-After header value for `status`: seconds, or an HTTP date. */
  retryAfter?: number | string;
  /** Never answer; the connection stays open until the fault is cleared or the server stops. */
  hang?: boolean;
  /** Destroy the connection without answering. */
  drop?: boolean;
  /** Apply to the next N matching calls only. Default: until cleared. */
  times?: number;
}

export interface Fault extends FaultSpec {
  id: number;
  /** Calls this fault has been applied to. */
  hits: number;
}

const defaultType: Record<number, string> = {
  400: 'bad_request_error',
  401: 'auth_error',
  403: 'auth_error',
  404: 'not_found_error',
  429: 'throttling_error',
  500: 'internal_server_error',
  502: 'api_error',
  503: 'service_unavailable',
  504: 'timeout',
};

function toRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export class Faults {
  #next = 1;
  #faults: { fault: Fault; pattern: RegExp }[] = [];
  readonly #hung = new Set<Socket>();
  readonly #delayed = new WeakMap<FastifyRequest, number>();

  /** Adds a fault; the newest matching fault wins. */
  add(spec: FaultSpec): Fault {
    if (spec.times !== undefined && (!Number.isInteger(spec.times) || spec.times < 1)) {
      throw new Error(`fault times must be a positive integer, got ${spec.times}`);
    }
    const fault: Fault = { ...spec, route: spec.route ?? '*', id: this.#next++, hits: 0 };
    this.#faults.push({ fault, pattern: toRegExp(fault.route!) });
    return fault;
  }

  list(): Fault[] {
    return this.#faults.map((f) => ({ ...f.fault }));
  }

  /** Removes one fault (by id) or all; connections held by `hang` are closed. */
  clear(id?: number): void {
    this.#faults = id === undefined ? [] : this.#faults.filter((f) => f.fault.id !== id);
    if (id === undefined || this.#faults.every((f) => !f.fault.hang)) {
      for (const socket of this.#hung) socket.destroy();
      this.#hung.clear();
    }
  }

  /** The fault for this call, counting it; undefined when none matches. */
  take(method: string, path: string): Fault | undefined {
    for (let i = this.#faults.length - 1; i >= 0; i--) {
      const entry = this.#faults[i]!;
      const { fault } = entry;
      if (fault.method && fault.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!entry.pattern.test(path)) continue;
      fault.hits++;
      if (fault.times !== undefined && fault.hits >= fault.times) this.#faults.splice(i, 1);
      return { ...fault };
    }
    return undefined;
  }

  /**
   * The onRequest hook: takes the matching fault and applies what needs no body (drop, hang,
   * a status); a fault that only adds latency is left to `delay`, after the body is read.
   */
  async apply(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const path = request.url.split('?')[0]!;
    if (path.startsWith('/__test/')) return undefined;
    const fault = this.take(request.method, path);
    if (!fault) return undefined;
    if (!fault.drop && !fault.hang && !fault.status) {
      this.#delayed.set(request, fault.latencyMs ?? 0);
      return undefined;
    }
    if (fault.latencyMs) await sleep(fault.latencyMs);
    if (fault.drop) {
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    if (fault.hang) {
      reply.hijack();
      const socket = request.raw.socket;
      this.#hung.add(socket);
      socket.once('close', () => this.#hung.delete(socket));
      return reply;
    }
    if (fault.retryAfter !== undefined) reply.header('retry-after', String(fault.retryAfter));
    const body = fault.body ?? {
      error: {
        message: `injected fault: HTTP ${fault.status} for ${request.method} ${path}`,
        type: defaultType[fault.status!] ?? 'internal_server_error',
        param: null,
        code: String(fault.status),
      },
    };
    return reply.code(fault.status!).send(body);
  }

  /**
   * The preHandler hook: a latency-only fault waits here, once the body has been read, so
   * the request is still carried out when the client gives up meanwhile — as a slow LiteLLM
   * finishes a request whose caller timed out.
   */
  async delay(request: FastifyRequest): Promise<void> {
    const ms = this.#delayed.get(request);
    if (ms === undefined) return;
    this.#delayed.delete(request);
    if (ms > 0) await sleep(ms);
  }
}
