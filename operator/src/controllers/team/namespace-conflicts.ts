// A namespace belongs to at most one Team. When two Teams claim one, neither silently wins:
// both report the conflict (Ready=False, NamespaceConflict=True) naming the other Team and
// the namespaces, and stay synced with LiteLLM otherwise.

export interface NamespaceConflict {
  /** The other Team. */
  team: string;
  /** The namespaces both claim, sorted. */
  namespaces: string[];
}

/**
 * @param claimantsOf the names of every Team whose spec.namespaces lists `namespace`
 * @returns one entry per other Team, sorted by name
 */
export function namespaceConflicts(
  team: string,
  namespaces: readonly string[],
  claimantsOf: (namespace: string) => readonly string[],
): NamespaceConflict[] {
  const byTeam = new Map<string, Set<string>>();
  for (const namespace of namespaces) {
    for (const other of claimantsOf(namespace)) {
      if (other === team) continue;
      if (!byTeam.has(other)) byTeam.set(other, new Set());
      byTeam.get(other)!.add(namespace);
    }
  }
  return [...byTeam]
    .map(([other, shared]) => ({ team: other, namespaces: [...shared].sort() }))
    .sort((a, b) => a.team.localeCompare(b.team));
}

export function namespaceConflictMessage(conflicts: readonly NamespaceConflict[]): string {
  const parts = conflicts.map(
    (c) =>
      `${c.namespaces.length === 1 ? 'namespace' : 'namespaces'} ${c.namespaces.join(', ')} ${c.namespaces.length === 1 ? 'is' : 'are'} also claimed by Team ${c.team}`,
  );
  return `${parts.join('; ')}. A namespace belongs to at most one Team: remove it from all but one of them.`;
}
