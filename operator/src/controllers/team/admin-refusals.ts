// Which members LiteLLM refused to make team admin (Enterprise-only without a licence), per
// Team generation. Asking again on every resync would be a write each time that can only
// fail the same way; so a refusal is remembered until the Team's spec changes (or the
// operator restarts, which costs one more attempt per member).

export class AdminRefusals {
  readonly #byTeam = new Map<string, { generation: number | undefined; users: Set<string> }>();

  has(teamUid: string, generation: number | undefined, user: string): boolean {
    const entry = this.#byTeam.get(teamUid);
    return entry !== undefined && entry.generation === generation && entry.users.has(user);
  }

  add(teamUid: string, generation: number | undefined, user: string): void {
    let entry = this.#byTeam.get(teamUid);
    if (!entry || entry.generation !== generation) {
      entry = { generation, users: new Set() };
      this.#byTeam.set(teamUid, entry);
    }
    entry.users.add(user);
  }

  forget(teamUid: string): void {
    this.#byTeam.delete(teamUid);
  }
}
