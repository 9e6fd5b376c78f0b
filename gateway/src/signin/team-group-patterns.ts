// Which of a person's groups get a Team of their own at login (SIGNIN_TEAM_GROUPS, with
// SIGNIN_AUTO_CREATE_TEAMS): a comma-separated list of glob patterns matched against the whole
// group name, case-sensitively, where "*" stands for any run of characters (none too) and
// every other character for itself: "team-*,/org/projects/*". A pattern list, not a regular
// expression, so a typo cannot turn into "every group" (a lone "*" has to be written out).

const PATTERN = /^\S{1,253}$/;

export type TeamGroupPatterns = readonly string[];

/** "team-*, ml" → ["team-*", "ml"]; problems (as "SIGNIN_TEAM_GROUPS: …") for bad entries. */
export function parseTeamGroupPatterns(value: string, problems: string[]): TeamGroupPatterns {
  const patterns = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const pattern of patterns) {
    if (!PATTERN.test(pattern))
      problems.push(
        `SIGNIN_TEAM_GROUPS: ${JSON.stringify(pattern.slice(0, 80))} is not a group pattern (no spaces, at most 253 characters, "*" for any run of characters)`,
      );
  }
  return patterns;
}

/** True when `group` matches one of `patterns` as a whole. */
export function matchesTeamGroups(group: string, patterns: TeamGroupPatterns): boolean {
  return patterns.some((pattern) => globMatches(pattern, group));
}

/** Glob match with "*" only, iteratively (no regular expression built from the pattern). */
function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
