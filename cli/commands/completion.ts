// kubectl llm completion bash|zsh: a completion script made from the command list itself, so
// it never falls behind. Object names (keys, teams) are completed by asking kubectl.
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { commands } from './index.ts';

const NAMES: Record<string, string> = {
  'key suspend': 'virtualkeys.llmtenancy.dev',
  'key resume': 'virtualkeys.llmtenancy.dev',
  'key delete': 'virtualkeys.llmtenancy.dev',
  'team add-member': 'teams.llmtenancy.dev',
  'team set-budget': 'teams.llmtenancy.dev',
  'team allow-model': 'teams.llmtenancy.dev',
};

export function bashCompletion(globalFlags: string[]): string {
  const top = [...new Set(commands.map((c) => c.name.split(' ')[0]!))];
  const groups = new Map<string, string[]>();
  for (const c of commands) {
    const [first, second] = c.name.split(' ');
    if (second) groups.set(first!, [...(groups.get(first!) ?? []), second]);
  }
  const flagCases = commands
    .map((c) => {
      const own = Object.entries(c.flags ?? {}).map(([name]) => `--${name}`);
      return `    "${c.name}") flags="${[...own, ...globalFlags].join(' ')}" ;;`;
    })
    .join('\n');
  const groupCases = [...groups.entries()]
    .map(
      ([group, subs]) =>
        `    ${group}) COMPREPLY=($(compgen -W "${subs.join(' ')}" -- "$cur")); return ;;`,
    )
    .join('\n');
  const nameCases = Object.entries(NAMES)
    .map(
      ([name, resource]) =>
        `    "${name}") COMPREPLY=($(compgen -W "$(kubectl get ${resource} $ns -o jsonpath='{.items[*].metadata.name}' 2>/dev/null)" -- "$cur")) ;;`,
    )
    .join('\n');
  return `# kubectl-llm bash completion: source <(kubectl-llm completion bash)
_kubectl_llm() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" first="" second="" ns="" prev=""
  local w
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    if [[ $prev == -n || $prev == --namespace ]]; then ns="-n $w"; prev=""; continue; fi
    prev="$w"
    [[ $w == -* ]] && continue
    if [[ -z $first ]]; then first="$w"; elif [[ -z $second ]]; then second="$w"; fi
  done
  if [[ $cur == -* ]]; then
    local flags="${globalFlags.join(' ')}"
    case "$first $second" in
${flagCases}
    esac
    case "$first" in
${commands
  .filter((c) => !c.name.includes(' '))
  .map(
    (c) =>
      `    "${c.name}") flags="${[...Object.keys(c.flags ?? {}).map((n) => `--${n}`), ...globalFlags].join(' ')}" ;;`,
  )
  .join('\n')}
    esac
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  if [[ -z $first ]]; then
    COMPREPLY=($(compgen -W "${top.join(' ')}" -- "$cur"))
    return
  fi
  if [[ -z $second ]]; then
    case "$first" in
${groupCases}
    esac
  fi
  case "$first $second" in
${nameCases}
  esac
}
complete -F _kubectl_llm kubectl-llm
`;
}

export const completion: Command = {
  name: 'completion',
  summary: 'Print a shell completion script (bash or zsh).',
  usage: 'bash|zsh',
  examples: [
    'source <(kubectl llm completion bash)',
    'kubectl llm completion zsh > "${fpath[1]}/_kubectl-llm"',
  ],
  uses: { namespace: false, output: false },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const shell = ctx.args[0];
    const { globalFlags } = await import('../run.ts');
    const flags = Object.entries(globalFlags).map(([name]) => `--${name}`);
    if (shell === 'bash') {
      ctx.io.out(bashCompletion(flags));
    } else if (shell === 'zsh') {
      ctx.io.out(
        `#compdef kubectl-llm\n# kubectl-llm zsh completion, through zsh's bash completion support.\nautoload -U +X bashcompinit && bashcompinit\n${bashCompletion(flags)}`,
      );
    } else {
      throw new UsageError(`completion is for bash or zsh, not "${shell}"`);
    }
  },
};
