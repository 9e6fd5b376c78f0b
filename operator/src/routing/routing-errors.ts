// Errors of the routing publisher, shaped for the reconcilers that call it:
//
// - RoutingUnavailableError: Redis could not take the change (unreachable, timed out,
//   answered with an error). Nothing was recorded as written; the reconciler sets a condition
//   and retries with backoff.
// - InvalidRoutingRecordError: the record does not match the routing schema. That is a bug in
//   whoever compiled it, not a passing fault, so it is a TerminalError: retrying cannot help.
//
// Messages never carry Redis credentials: a URL with a password that appears in an
// underlying error is masked.
import { TerminalError } from '../runtime/result.ts';

/** The operations the publisher performs; also the `op` label of its metrics. */
export type RoutingOperation =
  'put_key' | 'remove_key' | 'put_models' | 'republish' | 'prune' | 'complete';

export class RoutingUnavailableError extends Error {
  override readonly name = 'RoutingUnavailableError';
  readonly operation: RoutingOperation;

  constructor(operation: RoutingOperation, message: string, options?: ErrorOptions) {
    super(`routing config ${operation}: ${maskCredentials(message)}`, options);
    this.operation = operation;
  }

  /** Wraps whatever the Redis client threw, saying whether Redis answered at all. */
  static from(operation: RoutingOperation, cause: unknown): RoutingUnavailableError {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const message = isRedisReply(cause)
      ? `Redis refused the change: ${detail}`
      : `Redis is unreachable: ${detail}`;
    return new RoutingUnavailableError(operation, message, { cause });
  }
}

/** Keeps TerminalError's `name` (its type is that literal); tell it apart with instanceof. */
export class InvalidRoutingRecordError extends TerminalError {}

/** ioredis's ReplyError (redis-errors): the server answered, with an error. */
function isRedisReply(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}

/** `redis://user:secret@host` → `redis://***@host`, anywhere in `text`. */
export function maskCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@');
}
