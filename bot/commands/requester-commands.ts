import { randomUUID } from 'node:crypto';
import type { RequestRepository } from '../../services/store/requests';
import type { AccessControl } from '../access-control';
import { TRANSFER_DIALOG, type TransferDialogOptions } from '../dialogs/transfer-dialog';
import { REQUESTER_HELP } from '../replies';
import type { Command } from './command';
import { showStatus } from './status';

/** What a requester can type in their personal chat. */
export function requesterCommands(requests: RequestRepository, access: AccessControl): Command[] {
  return [
    {
      words: ['new transfer', 'start'],
      scope: 'personal',
      interruptsDialog: true,
      async run({ context, dialogs: loadDialogs, userId }) {
        const dialogs = await loadDialogs();
        if (dialogs.activeDialog) {
          await context.sendActivity('You already have a transfer in progress. Carry on with it, or type **cancel** to stop it first.');
          return;
        }
        const requester = await access.requester(userId);
        await dialogs.beginDialog(TRANSFER_DIALOG, { requester, draftId: randomUUID() } satisfies TransferDialogOptions);
      },
    },
    {
      words: ['status'],
      scope: 'personal',
      interruptsDialog: true,
      run: (turn) => showStatus(turn, requests, access, false),
    },
    {
      // The same words whether or not a form is open (the form's own "help" says the same), so no state is read.
      words: ['help'],
      scope: 'personal',
      interruptsDialog: true,
      run: async ({ context }) => {
        await context.sendActivity(REQUESTER_HELP);
      },
    },
    {
      words: ['cancel'],
      scope: 'personal',
      interruptsDialog: false,
      run: async ({ context }) => {
        await context.sendActivity('There is nothing to cancel.');
      },
    },
  ];
}
