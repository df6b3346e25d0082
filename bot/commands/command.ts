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
  dialogs(): Promise<DialogContext>;
}

/** A typed chat command. Commands are a registry, like card actions: one handler each. */
export interface Command {
  /** The words that start it, lower case. */
  words: readonly string[];
  scope: CommandScope;
  /** Whether it runs even while a transfer form is being filled in (otherwise the form hears it). */
  interruptsDialog: boolean;
  run(turn: CommandTurn): Promise<void>;
}

export class CommandRegistry {
  constructor(private readonly commands: readonly Command[]) {}

  /** The command a message starts with in this scope, and its argument. */
  match(text: string, scope: CommandScope): { command: Command; argument: string } | undefined {
    const lower = text.toLowerCase();
    for (const command of this.commands) {
      if (command.scope !== scope) continue;
      for (const word of command.words) {
        if (lower === word) return { command, argument: '' };
        if (lower.startsWith(`${word} `)) return { command, argument: text.slice(word.length).trim() };
      }
    }
    return undefined;
  }
}
