import { MessageFactory, TeamsActivityHandler, type AdaptiveCardInvokeResponse, type AdaptiveCardInvokeValue, type FileConsentCardResponse, type TurnContext } from 'botbuilder';
import { DialogSet, DialogTurnStatus, type DialogContext } from 'botbuilder-dialogs';
import { z } from 'zod';
import { renderWelcomeCard } from '../cards/welcome';
import { describeErrorForLog, findAppError } from '../core/errors';
import type { Logger } from '../core/log';
import type { CardActionDispatcher } from './card-actions/dispatcher';
import { acceptFileConsent, declineFileConsent, type FileExportDependencies } from './files/file-consent';
import type { CommandRegistry, CommandScope, CommandTurn } from './commands/command';
import type { TransferDialog } from './dialogs/transfer-dialog';
import { plainText } from './message-text';
import { isPersonal } from './middleware/reference-capture';
import { OPS_HELP } from './replies';
import type { DialogStateStore } from './state/dialog-state';

export interface BotDependencies {
  dialogState: DialogStateStore;
  transferDialog: TransferDialog;
  commands: CommandRegistry;
  /** NAS Operations' exports: the file consent answers come back here. */
  fileExports: FileExportDependencies;
  /** An outcome card's "start a new request" button; false when the activity is not that. */
  resubmit: (turn: CommandTurn) => Promise<boolean>;
  cardActions: CardActionDispatcher;
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
const buttonCommandSchema = z.object({ command: z.enum(['new transfer', 'status', 'help']) });

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
      if (botAdded && isPersonal(context)) await context.sendActivity(MessageFactory.attachment(renderWelcomeCard({ firstName: context.activity.from?.name?.split(' ')[0] || 'there' })));
      await next();
    });
  }

  override async run(context: TurnContext): Promise<void> {
    await super.run(context);
    await this.saveDialogState(context);
  }

  protected override async handleTeamsFileConsentAccept(context: TurnContext, response: FileConsentCardResponse): Promise<void> {
    await acceptFileConsent(this.deps.fileExports, context, response);
  }

  protected override async handleTeamsFileConsentDecline(context: TurnContext, response: FileConsentCardResponse): Promise<void> {
    await declineFileConsent(this.deps.fileExports, context, response);
  }

  protected override async onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    return this.deps.cardActions.dispatch(context, invokeValue);
  }

  private async onText(context: TurnContext, scope: CommandScope): Promise<void> {
    const text = plainText(context.activity) || buttonCommand(context.activity.value);
    // Dialog state is read only when this turn needs it: most commands do not.
    let loaded: Promise<DialogContext> | undefined;
    const dialogs = () => (loaded ??= this.dialogs.createContext(context));
    const matched = this.deps.commands.match(text, scope);
    const turn = { context, dialogs, userId: context.activity.from?.aadObjectId };
    if (matched && (matched.command.interruptsDialog || !(await dialogs()).activeDialog)) {
      await matched.command.run({ ...turn, argument: matched.argument });
      return;
    }
    if (scope === 'channel') {
      await context.sendActivity(`I did not recognise that. ${OPS_HELP}`);
      return;
    }
    if (await this.deps.resubmit({ ...turn, argument: '' })) return;
    const result = await (await dialogs()).continueDialog();
    if (result.status !== DialogTurnStatus.empty) return;
    await context.sendActivity(
      context.activity.value !== undefined && text === ''
        ? 'That card belongs to a transfer that has already been submitted or cancelled. Type **status** to see your requests, or **new transfer** to start again.'
        : 'I did not recognise that. Type **new transfer** to start a transfer, **status** to see your requests, or **help**.',
    );
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
        await context.sendActivity('Two answers arrived at the same moment; I kept the first one and carried on from it. Type **status** to check, or carry on.');
      }
    }
  }
}
