import type { TurnContext } from 'botbuilder';
import type { DialogContext } from 'botbuilder-dialogs';

export type CommandScope = 'personal' | 'channel';

export interface CommandTurn {
  context: TurnContext;
  /** What followed the command word, e.g. the reference in "status NTR-100001". */
  argument: string;
  /** The person acting, by Entra object id. */
  userId: string | undefined;
  /** The conversation's dialogs, loaded from the store only when a command asks for them. */
  dialogs: () => Promise<DialogContext>;
}

/** A typed chat command. Commands are a registry, like card actions: one handler each. */
export interface Command {
  /** The words that start it, lower case. */
  words: readonly string[];
  /** Where it is understood: the personal chat, the ops channel, or both. */
  scope: CommandScope | readonly CommandScope[];
  /** Whether it runs even while a transfer form is being filled in (otherwise the form hears it). */
  interruptsDialog: boolean;
  run(turn: CommandTurn): Promise<void>;
}

/** How far a typed word may be from a command's to be offered as "did you mean". */
const MAX_SUGGESTION_DISTANCE = 2;
/** Nothing longer is compared: suggestions are for short typos, and the cost stays small. */
const MAX_SUGGESTION_INPUT = 40;

export class CommandRegistry {
  constructor(private readonly commands: readonly Command[]) {}

  /** The command a message starts with in this scope, and its argument. */
  match(text: string, scope: CommandScope): { command: Command; argument: string } | undefined {
    const lower = text.toLowerCase();
    for (const command of this.inScope(scope)) {
      for (const word of command.words) {
        if (lower === word) return { command, argument: '' };
        if (lower.startsWith(`${word} `)) return { command, argument: text.slice(word.length).trim() };
      }
    }
    return undefined;
  }

  /**
   * The command word nearest what was typed ("new tranfser" → "new transfer"), compared
   * word for word with the start of the message; undefined when nothing is close.
   */
  suggest(text: string, scope: CommandScope): string | undefined {
    const typed = text.toLowerCase().trim().split(/\s+/);
    let best: { word: string; distance: number } | undefined;
    for (const command of this.inScope(scope)) {
      for (const word of command.words) {
        const start = typed.slice(0, word.split(' ').length).join(' ');
        if (start.length > MAX_SUGGESTION_INPUT) continue;
        const distance = editDistance(start, word);
        const allowed = Math.min(MAX_SUGGESTION_DISTANCE, Math.floor(word.length / 3));
        if (distance > 0 && distance <= allowed && (!best || distance < best.distance)) best = { word, distance };
      }
    }
    return best?.word;
  }

  private inScope(scope: CommandScope): Command[] {
    return this.commands.filter((command) => (typeof command.scope === 'string' ? command.scope === scope : command.scope.includes(scope)));
  }
}

/** Levenshtein distance, with transpositions of neighbours counted as one edit ("tranfser"). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return rows[a.length]![b.length]!;
}
