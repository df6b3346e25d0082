import { WELCOME_DIRECTORY_MS } from './access-control';
import {
  InvokeException,
  MessageFactory,
  StatusCodes,
  TeamsActivityHandler,
  type InvokeResponse,
  type TokenExchangeInvokeResponse,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type FileConsentCardResponse,
  type SigninStateVerificationQuery,
  type TurnContext,
} from 'botbuilder';
import { DialogSet, DialogTurnStatus, type DialogContext } from 'botbuilder-dialogs';
import { z } from 'zod';
import { escapeMarkdown } from '../core/text';
import { renderWelcomeCard } from '../cards/welcome';
import { describeErrorForLog, findAppError } from '../core/errors';
import type { Logger } from '../core/log';
import type { CardActionDispatcher } from './card-actions/dispatcher';
import { acceptFileConsent, declineFileConsent, type FileExportDependencies } from './files/file-consent';
import type { CommandRegistry, CommandScope, CommandTurn } from './commands/command';
import type { TransferDialog } from './dialogs/transfer-dialog';
import { plainText } from './message-text';
import { isPersonal } from './middleware/reference-capture';
import { HELP_BEFORE_DIRECTORY, OPS_HELP, OPS_PERSONAL_HELP, REQUESTER_HELP } from './replies';
import type { DialogStateStore } from './state/dialog-state';
import { DutiesTurns } from './duties/duties-turns';

export interface BotDependencies {
  dialogState: DialogStateStore;
  transferDialog: TransferDialog;
  commands: CommandRegistry;
  /** NAS Operations' exports: the file consent answers come back here. */
  fileExports: FileExportDependencies;
  /** An outcome card's "start a new request" button; false when the activity is not that. */
  resubmit: (turn: CommandTurn) => Promise<boolean>;
  /** Whether someone is in NAS Operations, to greet and help them as ops in their personal chat. */
  /** The same, waiting at most `ms` for a directory not yet asked (AccessControl.opsMemberWithin): the install welcome. */
  opsMemberWithin: (userId: string | undefined, ms: number) => Promise<boolean | undefined>;
  /** What the directory last said about NAS Operations, without waiting (AccessControl.knownOpsMember): for words only. */
  knownOpsMember: (userId: string | undefined) => boolean | undefined;
  cardActions: CardActionDispatcher;
  /** Telling the affected users: the drafts card's buttons, its files and the mail sign-in. */
  duties?: DutiesTurns;
  logger: Logger;
}

/**
 * Routes Teams activities: typed commands (a registry), the transfer conversation in personal
 * chat, and card actions. Tenant checks, input bounds and conversation references are
 * middleware on the adapter, so they have run before anything here.
 */
/**
 * A card button that stands for a typed command, sent as the button's data. (An imBack
 * button would post the words themselves in Teams, but the Agents Playground ignores imBack,
 * so the welcome card's buttons carry the command as data, which every client submits.)
 */
const buttonCommandSchema = z.object({ command: z.enum(['new transfer', 'status', 'help', 'pending']) });
/** Teams' signin/tokenExchange value (botframework-schema's TokenExchangeInvokeRequest). */
const tokenExchangeSchema = z.object({ id: z.string().max(200), connectionName: z.string().max(200), token: z.string().min(1).max(20_000) });
const SIGN_IN_FAILURE = 'signin/failure';
/** Its code is a fixed lower-case word (installappfailed, resourcematchfailed, …); anything else is logged as unknown. */
const signInFailureSchema = z.object({ code: z.string().regex(/^[a-z]{1,40}$/) });
/** Greetings are answered with what the bot can do, not "did you mean help". */
const GREETINGS: ReadonlySet<string> = new Set(['hello', 'hi', 'hey', 'hiya', 'good morning', 'good afternoon', 'hello there']);

/** A typed message on its way through the route table. */
export interface TextTurn extends Omit<CommandTurn, 'argument'> {
  text: string;
  scope: CommandScope;
}

/** One way a typed message can be handled; `take` answers whether it did. */
export interface TextRoute {
  name: string;
  scopes: readonly CommandScope[];
  take(turn: TextTurn): Promise<boolean>;
}

function buttonCommand(value: unknown): string {
  const parsed = buttonCommandSchema.safeParse(value);
  return parsed.success ? parsed.data.command : '';
}

export class NasTransferBot extends TeamsActivityHandler {
  private readonly dialogs: DialogSet;

  constructor(private readonly deps: BotDependencies) {
    super();
    this.dialogs = new DialogSet(deps.dialogState).add(deps.transferDialog);

    this.onMessage(async (context, next) => {
      await this.onText(context, isPersonal(context) ? 'personal' : 'channel');
      await next();
    });

    this.onMembersAdded(async (context, next) => {
      const botAdded = context.activity.membersAdded?.some((member) => member.id === context.activity.recipient.id);
      if (botAdded && isPersonal(context)) {
        const firstName = context.activity.from?.name?.split(' ')[0] || 'there';
        const forOps = await this.deps.opsMemberWithin(context.activity.from?.aadObjectId, WELCOME_DIRECTORY_MS);
        await context.sendActivity(MessageFactory.attachment(renderWelcomeCard({ firstName, forOps })));
      }
      await next();
    });
  }

  override async run(context: TurnContext): Promise<void> {
    await super.run(context);
    await this.saveDialogState(context);
  }

  protected override async handleTeamsFileConsentAccept(context: TurnContext, response: FileConsentCardResponse): Promise<void> {
    if (this.deps.duties && DutiesTurns.isDutiesConsent(response)) return this.deps.duties.acceptFile(context, response);
    await acceptFileConsent(this.deps.fileExports, context, response);
  }

  protected override async handleTeamsFileConsentDecline(context: TurnContext, response: FileConsentCardResponse): Promise<void> {
    if (this.deps.duties && DutiesTurns.isDutiesConsent(response)) return this.deps.duties.declineFile(context);
    await declineFileConsent(this.deps.fileExports, context, response);
  }

  /** The mail sign-in card's answer: Teams sends the code here once the person has signed in. */
  protected override async handleTeamsSigninVerifyState(context: TurnContext, query: SigninStateVerificationQuery): Promise<void> {
    await this.deps.duties?.verifySignIn(context, query.state);
  }

  /**
   * Teams' single sign-on for the mail sign-in card (it carries a tokenExchangeResource): the
   * token exchanged, or 412 with the exchange's id so Teams shows the card's sign-in button.
   * Microsoft Learn, "Add code to enable SSO in your bot app" (the invoke response):
   * https://learn.microsoft.com/microsoftteams/platform/bots/how-to/authentication/bot-sso-code
   */
  protected override async handleTeamsSigninTokenExchange(context: TurnContext): Promise<void> {
    const value = tokenExchangeSchema.safeParse(context.activity.value);
    const exchanged = value.success && this.deps.duties ? await this.deps.duties.exchangeSignIn(context, value.data.token) : false;
    if (exchanged) return;
    const refusal: TokenExchangeInvokeResponse = {
      id: value.success ? value.data.id : '',
      connectionName: value.success ? value.data.connectionName : '',
      failureDetail: 'The token could not be exchanged: sign in with the card’s button.',
    };
    throw new InvokeException(StatusCodes.PRECONDITION_FAILED, refusal);
  }

  /** signin/failure (single sign-on failed in the Teams client) is not routed by botbuilder: it is answered here. */
  protected override async onInvokeActivity(context: TurnContext): Promise<InvokeResponse> {
    if (context.activity.name !== SIGN_IN_FAILURE) return super.onInvokeActivity(context);
    const code = signInFailureSchema.safeParse(context.activity.value);
    await this.deps.duties?.signInFailed(context, code.success ? code.data.code : 'unknown');
    return { status: StatusCodes.OK };
  }

  protected override async onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    return this.deps.cardActions.dispatch(context, invokeValue);
  }

  /**
   * THE route table for typed text (and card buttons that stand for it): each route in turn
   * may take the message; the first that does ends the turn. Every way text reaches the bot is
   * here, in this order, and tests drive this table through the real bot, never a copy.
   */
  readonly textRoutes: readonly TextRoute[] = [
    {
      name: 'command',
      scopes: ['personal', 'channel'],
      take: async (turn) => {
        const matched = this.deps.commands.match(turn.text, turn.scope);
        if (!matched || (!matched.command.interruptsDialog && (await turn.dialogs()).activeDialog)) return false;
        await matched.command.run({ ...turn, argument: matched.argument });
        return true;
      },
    },
    // The affected-users drafts card's buttons (send by email, download): handled before the transfer conversation sees them.
    {
      name: 'affected users',
      scopes: ['personal'],
      take: async (turn) => (this.deps.duties ? this.deps.duties.handleAction(turn.context, turn.userId) : false),
    },
    { name: 'resubmit', scopes: ['personal'], take: (turn) => this.deps.resubmit({ ...turn, argument: '' }) },
    {
      name: 'outdated form',
      scopes: ['personal'],
      take: async (turn) => {
        await turn.dialogs();
        if (!this.deps.dialogState.outdated(turn.context)) return false;
        await turn.context.sendActivity(
          'The transfer form has changed since you started it, so I cannot carry on from where you were. Nothing was submitted: type **new transfer** to start again.',
        );
        return true;
      },
    },
    {
      name: 'transfer conversation',
      scopes: ['personal'],
      take: async (turn) => (await (await turn.dialogs()).continueDialog()).status !== DialogTurnStatus.empty,
    },
    {
      name: 'not recognised',
      scopes: ['personal', 'channel'],
      take: async (turn) => {
        const staleCard = turn.scope === 'personal' && turn.context.activity.value !== undefined && turn.text === '';
        await turn.context.sendActivity(
          staleCard
            ? 'That card belongs to a transfer that has already been submitted or cancelled. Type **status** to see your requests, or **new transfer** to start again.'
            : await this.notRecognised(turn.context, turn.text, turn.scope),
        );
        return true;
      },
    },
  ];

  private async onText(context: TurnContext, scope: CommandScope): Promise<void> {
    const text = plainText(context.activity) || buttonCommand(context.activity.value);
    // Dialog state is read only when this turn needs it: most commands do not.
    let loaded: Promise<DialogContext> | undefined;
    const dialogs = () => (loaded ??= this.dialogs.createContext(context));
    const turn: TextTurn = { context, dialogs, userId: context.activity.from?.aadObjectId, text, scope };
    for (const route of this.textRoutes) {
      if (route.scopes.includes(scope) && (await route.take(turn))) return;
    }
  }

  /** A greeting gets what the bot can do; a near miss ("new tranfser") the command it was probably meant to be. */
  private async notRecognised(context: TurnContext, text: string, scope: CommandScope): Promise<string> {
    // Words only, so what the directory last said is enough: a greeting never waits for Graph.
    const known = scope === 'channel' ? true : this.deps.knownOpsMember(context.activity.from?.aadObjectId);
    const asOps = known === true;
    const help = scope === 'channel' ? OPS_HELP : known === undefined ? HELP_BEFORE_DIRECTORY : asOps ? OPS_PERSONAL_HELP : REQUESTER_HELP;
    const greeting = text.toLowerCase().replace(/[!.,\s]+$/, '');
    const firstName = context.activity.from?.name?.split(' ')[0];
    if (GREETINGS.has(greeting)) return `Hello${firstName ? ` ${escapeMarkdown(firstName)}` : ''}. ${help}`;
    const suggestion = this.deps.commands.suggest(text, scope);
    if (suggestion) return `I did not recognise that. Did you mean **${suggestion}**? Type **help** for everything I understand.`;
    if (scope === 'channel') return `I did not recognise that. ${OPS_HELP}`;
    return asOps
      ? `I did not recognise that. ${OPS_PERSONAL_HELP}`
      : 'I did not recognise that. Type **new transfer** to start a transfer, **status** to see your requests, or **help**.';
  }

  /**
   * Two turns of one conversation at once (a double click, a Teams retry) both read the same
   * state; the second to write loses, and the first turn's answer stands. The loser's replies
   * have already gone, so the person is told which answer counted.
   */
  private async saveDialogState(context: TurnContext): Promise<void> {
    try {
      await this.deps.dialogState.save(context);
    } catch (error) {
      if (findAppError(error)?.code !== 'STORAGE_CONFLICT') throw error;
      this.deps.logger.info('turn.state_conflict', { activityType: context.activity.type, ...describeErrorForLog(error) });
      if (context.activity.type === 'message') {
        await context.sendActivity(
          'Two answers arrived at the same moment; I kept the first one and carried on from it. Type **status** to check, or carry on.',
        );
      }
    }
  }
}
