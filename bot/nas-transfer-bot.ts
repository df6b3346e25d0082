import {
  TeamsActivityHandler,
  TurnContext,
  MessageFactory,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type ConversationReference,
  type ConversationState,
  type StatePropertyAccessor,
} from 'botbuilder';
import { DialogSet, DialogTurnStatus, type DialogState } from 'botbuilder-dialogs';
import { renderWelcomeCard } from '../cards/welcome';
import { AppError } from '../core/errors';
import type { Logger } from '../core/log';
import { ConversationReferences } from '../services/store/conversation-references';
import type { RequestStore } from '../services/store/request-store';
import type { TransferWorkflow } from '../services/transfer-workflow';
import type { AccessControl } from './access-control';
import type { CardActionDispatcher } from './card-actions/dispatcher';
import { TRANSFER_DIALOG, type TransferDialog, type TransferDialogOptions } from './dialogs/transfer-dialog';
import { plainText } from './message-text';
import { describeRequest, describeRequestList, OPS_HELP, REQUESTER_HELP } from './replies';

export interface BotDependencies {
  conversationState: ConversationState;
  transferDialog: TransferDialog;
  access: AccessControl;
  store: RequestStore;
  references: ConversationReferences;
  workflow: TransferWorkflow;
  cardActions: CardActionDispatcher;
  opsChannelId: string;
  allowedTenantId?: string;
  logger: Logger;
}

const REFERENCE_PATTERN = /^NTR-\d{1,12}$/i;

/** Routes Teams activities: commands and the transfer conversation in personal chat, ops commands and card actions in the ops channel. */
export class NasTransferBot extends TeamsActivityHandler {
  private readonly dialogState: StatePropertyAccessor<DialogState>;
  private readonly dialogs: DialogSet;

  constructor(private readonly deps: BotDependencies) {
    super();
    this.dialogState = deps.conversationState.createProperty<DialogState>('dialogState');
    this.dialogs = new DialogSet(this.dialogState).add(deps.transferDialog);

    this.onMessage(async (context, next) => {
      if (isPersonal(context)) await this.onPersonalMessage(context);
      else await this.onChannelMessage(context);
      await next();
    });

    this.onMembersAdded(async (context, next) => {
      const botAdded = context.activity.membersAdded?.some((member) => member.id === context.activity.recipient.id);
      if (botAdded && isPersonal(context)) await context.sendActivity(MessageFactory.attachment(renderWelcomeCard({ firstName: context.activity.from?.name?.split(' ')[0] || 'there' })));
      await next();
    });
  }

  override async run(context: TurnContext): Promise<void> {
    const tenantId = context.activity.conversation?.tenantId ?? (context.activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id;
    if (this.deps.allowedTenantId && tenantId !== this.deps.allowedTenantId) {
      this.deps.logger.warn('activity.wrong_tenant', { activityType: context.activity.type });
      if (context.activity.type === 'message') await context.sendActivity(new AppError('WRONG_TENANT').userMessage);
      return;
    }
    await this.rememberConversation(context);
    await super.run(context);
    await this.deps.conversationState.saveChanges(context, false);
  }

  protected override async onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    return this.deps.cardActions.dispatch(context, invokeValue);
  }

  private async onPersonalMessage(context: TurnContext): Promise<void> {
    const text = plainText(context.activity);
    const command = text.toLowerCase();
    const dialogContext = await this.dialogs.createContext(context);
    const userId = context.activity.from?.aadObjectId;

    if (command === 'cancel') {
      const active = dialogContext.activeDialog !== undefined;
      await dialogContext.cancelAllDialogs();
      await context.sendActivity(active ? 'Cancelled. Nothing was submitted.' : 'There is nothing to cancel.');
      return;
    }
    if (command === 'help') {
      await context.sendActivity(REQUESTER_HELP);
      return;
    }
    if (command === 'status' || command.startsWith('status ')) {
      await this.status(context, text.slice('status'.length).trim(), userId, false);
      return;
    }
    if (command === 'new transfer' || command === 'start') {
      if (dialogContext.activeDialog) {
        await context.sendActivity('You already have a transfer in progress. Carry on with it, or type **cancel** to stop it first.');
        return;
      }
      const requester = await this.deps.access.requester(userId);
      await dialogContext.beginDialog(TRANSFER_DIALOG, { requester } satisfies TransferDialogOptions);
      return;
    }
    const result = await dialogContext.continueDialog();
    if (result.status === DialogTurnStatus.empty) {
      await context.sendActivity('I did not recognise that. Type **new transfer** to start a transfer, **status** to see your requests, or **help**.');
    }
  }

  private async onChannelMessage(context: TurnContext): Promise<void> {
    const text = plainText(context.activity);
    const command = text.toLowerCase();
    if (command === 'pending') {
      if (!(await this.deps.access.isOpsMember(context.activity.from?.aadObjectId))) throw new AppError('NOT_OPS');
      const pending = await this.deps.store.listAwaitingDecision();
      await context.sendActivity(pending.length === 0 ? 'No transfer requests are awaiting a decision.' : describeRequestList('Awaiting a decision:', pending));
      return;
    }
    if (command === 'status' || command.startsWith('status ')) {
      await this.status(context, text.slice('status'.length).trim(), context.activity.from?.aadObjectId, true);
      return;
    }
    await context.sendActivity(command === 'help' ? OPS_HELP : `I did not recognise that. ${OPS_HELP}`);
  }

  private async status(context: TurnContext, reference: string, userId: string | undefined, asOps: boolean): Promise<void> {
    if (!userId) throw new AppError(asOps ? 'NOT_OPS' : 'NOT_AN_ADMINISTRATOR');
    if (reference === '') {
      if (asOps) {
        await context.sendActivity('Type **status NTR-…** for one request, or **pending** for those awaiting a decision.');
        return;
      }
      const requests = await this.deps.store.listRequestsBy(userId);
      await context.sendActivity(requests.length === 0 ? 'You have no transfer requests yet. Type **new transfer** to start one.' : describeRequestList('Your transfer requests:', requests));
      return;
    }
    if (!REFERENCE_PATTERN.test(reference)) throw new AppError('INVALID_INPUT', 'A reference looks like NTR-100001.');
    const request = await this.deps.store.getRequestByReference(reference);
    if (!request) throw new AppError('REQUEST_NOT_FOUND');
    const allowed = request.requester.id === userId || (await this.deps.access.isOpsMember(userId));
    if (!allowed) throw new AppError('NOT_YOUR_REQUEST');
    await context.sendActivity(describeRequest(request));
  }

  /** Keeps the conversation references proactive messages need: the user's chat, and the ops channel. */
  private async rememberConversation(context: TurnContext): Promise<void> {
    const activity = context.activity;
    if (!activity.conversation || !activity.serviceUrl) return;
    const reference = TurnContext.getConversationReference(activity);
    if (isPersonal(context) && activity.from?.aadObjectId) {
      await this.deps.references.save(ConversationReferences.forUser(activity.from.aadObjectId), reference);
      // An outcome decided before this chat was known (or while Teams refused it) is delivered now.
      await this.deps.workflow.deliverUndeliveredOutcomes(activity.from.aadObjectId);
      return;
    }
    const channelId = (activity.channelData as { channel?: { id?: string } } | undefined)?.channel?.id ?? activity.conversation.id.split(';')[0];
    const conversationChannel = activity.conversation.id.split(';')[0];
    if (channelId !== this.deps.opsChannelId && conversationChannel !== this.deps.opsChannelId) return;
    const known = await this.deps.references.get(ConversationReferences.OPS_CHANNEL);
    const opsReference: Partial<ConversationReference> = { ...reference, conversation: { ...reference.conversation!, id: this.deps.opsChannelId }, activityId: undefined };
    if (known?.serviceUrl === opsReference.serviceUrl && known?.conversation?.id === this.deps.opsChannelId) return;
    await this.deps.references.save(ConversationReferences.OPS_CHANNEL, opsReference);
    this.deps.logger.info('ops_channel.learned', {});
    const posted = await this.deps.workflow.postPendingToOps();
    if (posted > 0) this.deps.logger.info('ops_channel.posted_pending', { posted });
  }
}

function isPersonal(context: TurnContext): boolean {
  const type = context.activity.conversation?.conversationType;
  return type === 'personal' || type === undefined;
}
