// Checks a Kubernetes label selector string (`team=ml,tier!=dev,env in (a,b),!legacy`) before
// the operator starts, so a typo in GROUP_SYNC_SELECTOR fails at start-up with a message,
// not later as an API error inside a watch loop. The API server still has the last word.
// Also matches one against labels, as the API server does, for the fake KubeClient.

const NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const PREFIX = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const KEY = `(${PREFIX}/)?${NAME}`;
const VALUE = `(${NAME})?`;
const REQUIREMENT = new RegExp(
  [
    `^!?${KEY}$`, // exists / does not exist
    `^${KEY}\\s*(=|==|!=)\\s*${VALUE}$`,
    `^${KEY}\\s+(in|notin)\\s*\\(\\s*${VALUE}(\\s*,\\s*${VALUE})*\\s*\\)$`,
  ].join('|'),
);

/** Splits at commas outside parentheses. */
function requirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current.trim());
  return parts;
}

/** A problem with `selector`, or undefined when it reads as a label selector. */
export function labelSelectorProblem(selector: string): string | undefined {
  if (selector.trim() === '') return 'is empty';
  for (const requirement of requirements(selector)) {
    if (!REQUIREMENT.test(requirement)) {
      return `${JSON.stringify(requirement)} is not a label selector requirement (key, !key, key=value, key!=value, key in (a,b), key notin (a,b))`;
    }
  }
  return undefined;
}

/** Whether `labels` satisfy `selector` (a valid one: labelSelectorProblem says so). */
export function labelSelectorMatches(
  selector: string,
  labels: Readonly<Record<string, string>>,
): boolean {
  return requirements(selector).every((requirement) => {
    const set = /^([^\s!=]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(requirement);
    if (set) {
      const values = set[3]!.split(',').map((v) => v.trim());
      const value = labels[set[1]!];
      const has = value !== undefined && values.includes(value);
      return set[2] === 'in' ? has : !has;
    }
    const compare = /^([^\s!=]+)\s*(!=|==|=)\s*(.*)$/.exec(requirement);
    if (compare) {
      const equal = labels[compare[1]!] === compare[3]!.trim();
      return compare[2] === '!=' ? !equal : equal;
    }
    if (requirement.startsWith('!')) return labels[requirement.slice(1).trim()] === undefined;
    return labels[requirement] !== undefined;
  });
}
