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
 * Users: /user/list, page by page (at most 100 a page). Newest first, so users created
 * meanwhile push others to later pages: one may be seen twice (deduplicated), none missed.
 */
export function userSource(litellm: LiteLLMClient, pageSize = 100): LiteLLMObjectSource {
  return {
    kind: 'user',
    async list(signal) {
      const users = new Map<string, LiteLLMObject>();
      for (let page = 1; ; page++) {
        const answer = await litellm.listUsers({ page, page_size: pageSize }, { signal });
        for (const u of answer.users) {
          users.set(u.user_id, { kind: 'user', id: u.user_id, metadata: u.metadata });
        }
        if (answer.users.length === 0 || page >= answer.total_pages) break;
      }
      return [...users.values()];
    },
    delete: (id, signal) =>
      ignoringNotFound(
        litellm.deleteUsers([id], { signal, object: `orphaned LiteLLM user ${id}` }),
      ),
  };
}

/**
 * Keys: /key/list with full rows, page by page (at most 100 a page); the id is the key's
 * hash (LiteLLM's token), which /key/delete takes. A key's owner is its VirtualKey.
 */
export function keySource(litellm: LiteLLMClient, pageSize = 100): LiteLLMObjectSource {
  return {
    kind: 'key',
    async list(signal) {
      const keys = new Map<string, LiteLLMObject>();
      for (let page = 1; ; page++) {
        const answer = await litellm.listKeys(
          { page, size: pageSize, return_full_object: true },
          { signal },
        );
        for (const k of answer.keys) {
          if (typeof k === 'string' || !k.token) continue;
          keys.set(k.token, { kind: 'key', id: k.token, metadata: k.metadata });
        }
        if (answer.keys.length === 0 || page >= (answer.total_pages ?? 1)) break;
      }
      return [...keys.values()];
    },
    delete: (id, signal) =>
      ignoringNotFound(
        litellm.deleteKeys({ keys: [id] }, { signal, object: 'an orphaned LiteLLM key' }),
      ),
  };
}
