// Writes stop the moment leadership is lost. controller-runtime's answer to a lost lease is to
// exit the process at once; until the process is gone (and in tests, where it stays), a
// reconcile that was already running could still write. The fence makes "no write after the
// loss" a property of the client instead of a promise of every reconciler: controllers get a
// KubeConfig whose requests other than GET fail, before anything is sent, once the fence is
// closed. Reads keep working (informers, live reads), so nothing breaks half-way but writes.
//
// It covers the Kubernetes API only; LiteLLM calls stop through the reconcile's AbortSignal
// (every call takes it), Redis writes of the leader-only loops check it between steps.
import { HttpMethod, type KubeConfig, type RequestContext } from '@kubernetes/client-node';

export class WriteFence {
  #reason: Error | undefined;

  /** Refuses every write from now on, with `reason` (the first reason is kept). */
  close(reason: Error): void {
    this.#reason ??= reason;
  }

  /** Why writes are refused; undefined while they are allowed. */
  get closedBy(): Error | undefined {
    return this.#reason;
  }

  /**
   * `kc` behind the fence: the same cluster, credentials and TLS (everything is read through
   * to `kc`), but every request other than a GET fails once the fence is closed.
   */
  guard(kc: KubeConfig): KubeConfig {
    const guarded = Object.create(kc) as KubeConfig;
    guarded.applySecurityAuthentication = async (context: RequestContext) => {
      if (context.getHttpMethod() !== HttpMethod.GET && this.#reason) {
        throw new FencedWriteError(
          `${context.getHttpMethod()} ${new URL(context.getUrl()).pathname} refused`,
          { cause: this.#reason },
        );
      }
      return kc.applySecurityAuthentication(context);
    };
    return guarded;
  }
}

/** A write refused by a closed fence (leadership lost): nothing was sent. */
export class FencedWriteError extends Error {
  override readonly name = 'FencedWriteError';
}
