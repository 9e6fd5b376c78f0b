// Is the gateway reachable? With its management address (port 8081) /readyz says whether it
// has read the routing config; with its public address (…/v1) a request without a key must be
// refused with an OpenAI-shaped 401, which shows the gateway itself answered.
export interface GatewayReport {
  ok: boolean;
  url: string;
  message: string;
}

const TIMEOUT_MS = 5_000;

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  return { status: response.status, body: await jsonBodyOf(response) };
}

/** The response's JSON body; undefined when it is not JSON. */
export async function jsonBodyOf(response: Response): Promise<unknown> {
  return jsonOf(await response.text());
}

/** `text` as JSON; undefined when it is not JSON. */
export function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Why a fetch failed: the system's error code (ECONNREFUSED, …) or message. */
export function unreachableReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

export async function checkGateway(url: string): Promise<GatewayReport> {
  const base = url.replace(/\/+$/, '');
  try {
    if (!base.endsWith('/v1')) {
      const ready = await get(`${base}/readyz`);
      if (ready.status === 200) {
        const status = (ready.body as { status?: string; degraded?: string[] })?.status;
        const degraded = (ready.body as { degraded?: string[] })?.degraded;
        return {
          ok: true,
          url: base,
          message: `${base}/readyz: ${status ?? 'ready'}${degraded?.length ? ` (degraded: ${degraded.join(', ')})` : ''}`,
        };
      }
      if (ready.status === 503) {
        const failing = (ready.body as { failing?: string[] })?.failing ?? [];
        return {
          ok: false,
          url: base,
          message: `${base}/readyz: not ready (failing: ${failing.join(', ') || 'unknown'}); see the gateway's logs`,
        };
      }
    }
    const api = base.endsWith('/v1') ? base : `${base}/v1`;
    const models = await get(`${api}/models`);
    const openAiError = (models.body as { error?: { message?: string } })?.error;
    if (models.status === 401 && openAiError) {
      return { ok: true, url: base, message: `${api} answers (401 without a key, as it should)` };
    }
    return {
      ok: false,
      url: base,
      message: `${api}/models answered HTTP ${models.status}${openAiError ? '' : ', not an OpenAI-shaped error'}: is ${base} the gateway? Pass its public URL (…/v1) or its management port (…:8081)`,
    };
  } catch (err) {
    const why = unreachableReason(err);
    return {
      ok: false,
      url: base,
      message: `gateway unreachable at ${base} (${why}); check the URL, or reach it through kubectl port-forward svc/<release>-gateway 8081 and pass --gateway http://localhost:8081`,
    };
  }
}
