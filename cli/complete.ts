// kubectl's plugin completion (kubectl 1.26+): for `kubectl llm <TAB>` kubectl runs the
// executable `kubectl_complete-llm __complete <words…> <partial>` and reads cobra's format:
// one candidate per line, then ":<directive>" (4: no file completion).
import { commands } from './commands/index.ts';
import { globalFlags } from './run.ts';

const NO_FILE_COMPLETION = 4;

export function complete(words: readonly string[]): string {
  const partial = words[words.length - 1] ?? '';
  const before = words.slice(0, -1).filter((w) => !w.startsWith('-'));
  const candidates = candidatesFor(before, partial);
  const shown = candidates.filter((c) => c.startsWith(partial));
  return [...shown, `:${NO_FILE_COMPLETION}`].map((line) => `${line}\n`).join('');
}

function candidatesFor(before: string[], partial: string): string[] {
  const two = commands.find((c) => c.name === before.slice(0, 2).join(' '));
  const one = commands.find((c) => c.name === before[0]);
  const command = two ?? one;
  if (partial.startsWith('-')) {
    return Object.keys({ ...globalFlags, ...command?.flags }).map((name) => `--${name}`);
  }
  if (before.length === 0) return [...new Set(commands.map((c) => c.name.split(' ')[0]!))];
  if (!command && before.length === 1) {
    return commands
      .filter((c) => c.name.startsWith(`${before[0]} `))
      .map((c) => c.name.split(' ')[1]!);
  }
  if (command?.name === 'completion') return ['bash', 'zsh'];
  return [];
}
