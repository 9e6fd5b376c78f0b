// LiteLLM answers a read of something it has not got with 404; to an observe that is an
// answer ("there is none"), not a failure.
import { findLiteLLMError } from '../../../litellm/errors.ts';

/** What `read` returns, or undefined when LiteLLM answered 404. */
export async function unlessNotFound<R>(read: () => Promise<R>): Promise<R | undefined> {
  try {
    return await read();
  } catch (err) {
    if (findLiteLLMError(err)?.kind === 'notFound') return undefined;
    throw err;
  }
}
