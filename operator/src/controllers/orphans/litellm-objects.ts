// The LiteLLM objects the orphan collector looks at, one source per kind: how to list all of
// them with their metadata, and how to delete one.
import type { LiteLLMClient } from '../../litellm/client.ts';
import { findLiteLLMError } from '../../litellm/errors.ts';
import type { LiteLLMKind, LiteLLMObject } from './orphan-selection.ts';

export interface LiteLLMObjectSource {
  kind: LiteLLMKind;
  list(signal: AbortSignal): Promise<LiteLLMObject[]>;
  /** Deletes one object; one that is already gone is not an error. */
  delete(id: string, signal: AbortSignal): Promise<void>;
}

async function ignoringNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    if (findLiteLLMError(err)?.kind !== 'notFound') throw err;
  }
}

/** Teams: /team/list answers every team at once (it has no pages). */
export function teamSource(litellm: LiteLLMClient): LiteLLMObjectSource {
  return {
    kind: 'team',
    async list(signal) {
      const teams = await litellm.listTeams({}, { signal });
      return teams.map((t) => ({ kind: 'team', id: t.team_id, metadata: t.metadata }));
    },
    delete: (id, signal) =>
      ignoringNotFound(
        litellm.deleteTeams([id], { signal, object: `orphaned LiteLLM team ${id}` }),
      ),
  };
}

/**
 * Users: /user/list, every page (LiteLLMClient.listAllUsers: deduplicated, so a user created
 * meanwhile that pushes others to a later page is seen once, none missed).
 */
export function userSource(litellm: LiteLLMClient, pageSize = 100): LiteLLMObjectSource {
  return {
    kind: 'user',
    async list(signal) {
      const users = await litellm.listAllUsers({ signal, pageSize });
      return users.map((u) => ({ kind: 'user', id: u.user_id, metadata: u.metadata }));
    },
    delete: (id, signal) =>
      ignoringNotFound(
        litellm.deleteUsers([id], { signal, object: `orphaned LiteLLM user ${id}` }),
      ),
  };
}

/**
 * Keys: /key/list with full rows, every page (LiteLLMClient.listAllKeys); the id is the key's
 * hash (LiteLLM's token), which /key/delete takes. A key's owner is its VirtualKey.
 */
export function keySource(litellm: LiteLLMClient, pageSize = 100): LiteLLMObjectSource {
  return {
    kind: 'key',
    async list(signal) {
      const keys = await litellm.listAllKeys({ signal, pageSize });
      return keys.map((k) => ({ kind: 'key', id: k.token!, metadata: k.metadata }));
    },
    delete: (id, signal) =>
      ignoringNotFound(
        litellm.deleteKeys({ keys: [id] }, { signal, object: 'an orphaned LiteLLM key' }),
      ),
  };
}
