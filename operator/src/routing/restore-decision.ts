// Whether Redis still holds the routing config this publisher wrote, judged from the meta
// hash alone (one HGETALL, cheap enough to ask every few seconds):
//
//   meta missing                  Redis restarted empty or was flushed: republish everything
//   meta not a RoutingMeta        damaged: republish everything
//   another epoch                 another publisher's full publish (e.g. the previous leader,
//                                 or this process's first look): adopt it, nothing was lost
//   our epoch, older revision     Redis came back from an older snapshot: republish
//   our epoch, same or newer      current
import { RoutingMeta } from '../../../contracts/routing/schema.ts';

export interface KnownPublication {
  /** The epoch of our last write; undefined before the first. */
  epoch: string | undefined;
  /** The revision of our last write; 0 before the first. */
  revision: number;
}

export type RepublishReason = 'missing' | 'invalid' | 'revision_regressed';

export type RestoreDecision =
  | { action: 'current' }
  | { action: 'adopt'; epoch: string; revision: number }
  | { action: 'republish'; reason: RepublishReason };

/** `meta`: HGETALL of the meta hash ({} when it does not exist). */
export function decideRestore(
  meta: Record<string, string>,
  known: KnownPublication,
): RestoreDecision {
  if (Object.keys(meta).length === 0) return { action: 'republish', reason: 'missing' };
  const parsed = RoutingMeta.safeParse(meta);
  if (!parsed.success) return { action: 'republish', reason: 'invalid' };
  const { epoch, revision } = parsed.data;
  if (epoch !== known.epoch) return { action: 'adopt', epoch, revision };
  if (revision < known.revision) return { action: 'republish', reason: 'revision_regressed' };
  return { action: 'current' };
}
