// Load from autocannon, with what its summary leaves out. autocannon keeps latencies in an
// HDR histogram of whole milliseconds, too coarse for a proxy's sub-millisecond overhead, so
// every response's own time (its 'response' event: hrtime from the request written to the
// response complete, in fractional ms) is kept here and summarized with support/stats.ts.
// Each response's headers and body come through the request's onResponse hook: the body is
// checked to be the upstream's answer, and one header (the gateway's own overhead) is
// collected when asked. The hook runs for every target, so the load generator does the same
// work whatever it measures.
//
// autocannon runs in this process, on its main thread (no `workers`): with worker threads it
// would take a second core from the servers under test on a two-core machine.
import type { IncomingHttpHeaders } from 'node:http';
import autocannon from 'autocannon';
import { summarize, type Summary } from './stats.ts';

export interface Target {
  /** Shown in tables. */
  name: string;
  /** Full URL of the request, e.g. http://127.0.0.1:PORT/v1/chat/completions. */
  url: string;
  headers: Record<string, string>;
  body: string;
  /** A response body must contain this to count as the upstream's answer. */
  expect: string;
  /** Collect this response header (a number) from every response. */
  numericHeader?: string;
  /**
   * Spread the requests over these keys (Authorization: Bearer <key>) instead of the
   * headers' one: each connection cycles through its share of them (requests prepared once).
   */
  keys?: readonly string[];
}

export interface LoadOptions {
  connections: number;
  durationSeconds: number;
  /** Stop after this many requests instead (autocannon's `amount`). */
  amount?: number;
  /** A response slower than this counts as an error. Default 30 s. */
  timeoutSeconds?: number;
}

export interface LoadResult {
  target: string;
  connections: number;
  /** Wall time of the run, ms. */
  elapsedMs: number;
  /** Responses completed (any status). */
  responses: number;
  /** 2xx responses per second of wall time. */
  rps: number;
  /** Latency of the 2xx responses, ms. */
  latency: Summary;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** 2xx responses whose body was not the upstream's answer. */
  mismatches: number;
  /** Status codes seen, with counts. */
  statuses: Record<string, number>;
  /** Target.numericHeader over the 2xx responses; undefined when not asked for. */
  header?: Summary & { missing: number };
}

/** One autocannon run against `target`; resolves when it is done. */
export function runLoad(target: Target, options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const headerValues: number[] = [];
  const statuses: Record<string, number> = {};
  let responses = 0;
  let non2xx = 0;
  let mismatches = 0;
  let headerMissing = 0;
  const headerName = target.numericHeader?.toLowerCase();

  const onResponse = (
    status: number,
    body: string,
    _context: object,
    headers: IncomingHttpHeaders | undefined,
  ) => {
    if (status < 200 || status > 299) return;
    if (!body.includes(target.expect)) mismatches++;
    if (headerName === undefined) return;
    const raw = headers?.[headerName];
    const value = Number(Array.isArray(raw) ? raw[0] : raw);
    if (raw === undefined || !Number.isFinite(value)) headerMissing++;
    else headerValues.push(value);
  };

  return new Promise((resolve, reject) => {
    const started = performance.now();
    const instance = autocannon(
      {
        url: target.url,
        method: 'POST',
        headers: target.headers,
        body: target.body,
        connections: options.connections,
        pipelining: 1,
        duration: options.durationSeconds,
        ...(options.amount ? { amount: options.amount } : {}),
        timeout: options.timeoutSeconds ?? 30,
        requests: [{ onResponse }],
        ...(target.keys
          ? { setupClient: spreadKeys(target, options.connections, onResponse) }
          : {}),
      },
      (err, result) => {
        if (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const elapsedMs = performance.now() - started;
        resolve({
          target: target.name,
          connections: options.connections,
          elapsedMs,
          responses,
          rps: latencies.length / (elapsedMs / 1000),
          latency: summarize(latencies),
          non2xx,
          errors: result.errors,
          mismatches,
          statuses,
          ...(headerName === undefined
            ? {}
            : { header: { ...summarize(headerValues), missing: headerMissing } }),
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      responses++;
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode <= 299) latencies.push(responseTime);
      else non2xx++;
    });
  });
}

/** A setupClient giving the n-th connection every key whose index ≡ n (mod connections). */
function spreadKeys(
  target: Target,
  connections: number,
  onResponse: NonNullable<autocannon.Request['onResponse']>,
) {
  const keys = target.keys!;
  let next = 0;
  return (client: autocannon.Client) => {
    const n = next++ % connections;
    let share = keys.filter((_, i) => i % connections === n);
    if (share.length === 0) share = [keys[n % keys.length]!];
    client.setRequests(
      share.map((key) => ({
        method: 'POST',
        headers: { ...target.headers, authorization: `Bearer ${key}` },
        body: target.body,
        onResponse,
      })),
    );
  };
}

/** One request with fetch: its status, body and headers (a smoke check before a run). */
export async function probe(
  target: Target,
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(target.url, {
    method: 'POST',
    headers: target.headers,
    body: target.body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}
