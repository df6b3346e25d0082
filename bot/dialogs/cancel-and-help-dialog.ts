import { ComponentDialog, DialogTurnStatus, type DialogContext, type DialogTurnResult } from 'botbuilder-dialogs';
import { plainText } from '../message-text';
import { REQUESTER_HELP } from '../replies';

/**
 * Lets "cancel" and "help" interrupt any step of the dialogs built on it, in one place (as
 * BotBuilder's core-bot CancelAndHelpDialog does), so no prompt mistakes them for an answer.
 */
export class CancelAndHelpDialog extends ComponentDialog {
  protected override async onContinueDialog(innerContext: DialogContext): Promise<DialogTurnResult> {
    const interrupted = await this.interrupt(innerContext);
    return interrupted ?? super.onContinueDialog(innerContext);
  }

  private async interrupt(innerContext: DialogContext): Promise<DialogTurnResult | undefined> {
    if (innerContext.context.activity.type !== 'message') return undefined;
    const command = plainText(innerContext.context.activity).toLowerCase();
    if (command === 'help') {
      await innerContext.context.sendActivity(REQUESTER_HELP);
      return { status: DialogTurnStatus.waiting };
    }
    if (command === 'cancel') {
      await innerContext.context.sendActivity('Cancelled. Nothing was submitted.');
      return innerContext.cancelAllDialogs();
    }
    return undefined;
  }
}
