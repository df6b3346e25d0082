import { requestAccess } from '../../services/request-access';
import { randomUUID } from 'node:crypto';
import { AppError } from '../../core/errors';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import type { AccessControl } from '../access-control';
import { TRANSFER_DIALOG, type TransferDialogOptions } from '../dialogs/transfer-dialog';
import { HELP_BEFORE_DIRECTORY, OPS_PERSONAL_HELP, REQUESTER_HELP } from '../replies';
import { z } from 'zod';
import { plural } from '../../cards/plural';
import { entryAsLine } from '../../services/account-list';
import { fixableAccounts, REQUEST_REFERENCE_PATTERN } from '../../services/model';
import type { Command, CommandTurn } from './command';
import { showStatus } from './status';

/** What a requester can type in their personal chat. */
export function requesterCommands(requests: TransferRequests, access: AccessControl): Command[] {
  return [
    {
      words: ['answer'],
      scope: 'personal',
      interruptsDialog: true,
      async run({ context, argument, userId }) {
        if (!userId) throw new AppError('NOT_AN_ADMINISTRATOR');
        const [reference = '', ...words] = argument.split(/\s+/);
        const answer = words.join(' ').trim();
        if (!REQUEST_REFERENCE_PATTERN.test(reference) || answer === '')
          throw new AppError('INVALID_INPUT', 'Answer like this: **answer NTR-100001** then your answer.');
        if (answer.length > 1000) throw new AppError('INVALID_INPUT', 'Please keep the answer to 1,000 characters.');
        const request = await requests.getByReference(reference);
        if (!request) throw new AppError('REQUEST_NOT_FOUND');
        await requests.answer(request.id, { id: userId, name: request.requester.name }, answer);
        await context.sendActivity(`Thank you: your answer is on **${request.reference}** for NAS Operations.`);
      },
    },
    {
      words: ['withdraw'],
      scope: 'personal',
      interruptsDialog: true,
      async run({ context, argument, userId }) {
        if (!userId) throw new AppError('NOT_AN_ADMINISTRATOR');
        if (!REQUEST_REFERENCE_PATTERN.test(argument)) throw new AppError('INVALID_INPUT', 'Say which request: for example **withdraw NTR-100001**.');
        const request = await requests.getByReference(argument);
        if (!request) throw new AppError('REQUEST_NOT_FOUND');
        // The requester is named as stored on the request: withdrawing needs no administrator rights beyond having asked.
        await requests.withdraw(request.id, { id: userId, name: request.requester.name });
        await context.sendActivity(`Withdrawn: **${request.reference}** will not be decided, and NAS Operations can see that on its card.`);
      },
    },
    {
      words: ['new transfer', 'start'],
      scope: 'personal',
      interruptsDialog: true,
      async run({ context, dialogs: loadDialogs, userId }) {
        // The directory look-up goes alongside the read of the form's state, not after it: on a chat's first turn both wait
        // on someone else (Graph, the database). Its answer is used only once the state says no form is open; its failure
        // then ends the turn (fails closed) as before, and is dropped when a form is open.
        const lookingUp = access.requester(userId);
        lookingUp.catch(() => undefined);
        const dialogs = await loadDialogs();
        if (dialogs.activeDialog) {
          await context.sendActivity('You already have a transfer in progress. Carry on with it, or type **cancel** to stop it first.');
          return;
        }
        const requester = await lookingUp;
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
      // The same words whether or not a form is open (the form's own "help" says the same), so no state is read, and
      // none of the directory either: a NAS Operations member is told their own commands once the directory has said so
      // (a new chat's first activity starts that look-up); before it has, the requester's help says where theirs are.
      words: ['help'],
      scope: 'personal',
      interruptsDialog: true,
      run: async ({ context, userId }) => {
        const asOps = access.knownOpsMember(userId);
        await context.sendActivity(asOps === undefined ? HELP_BEFORE_DIRECTORY : asOps ? OPS_PERSONAL_HELP : REQUESTER_HELP);
      },
    },
    {
      // Asked for, so worth the wait for the directory (failing closed: someone it cannot place is told so).
      words: ['ops help'],
      scope: 'personal',
      interruptsDialog: true,
      run: async ({ context, userId }) => {
        await access.opsMember(userId);
        await context.sendActivity(OPS_PERSONAL_HELP);
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

const resubmission = z.object({ step: z.literal('resubmit'), requestId: z.coerce.number().int().positive() });

/**
 * "Start a new request with the ones you can fix" on an outcome card: a new form, with the
 * earlier reason offered (the requester is asked) and the accounts turned down only for
 * reasons the requester can fix already in the box. The card names a request; whose it is, and what is in it, come from the store.
 */
export async function startResubmission(turn: CommandTurn, requests: TransferRequests, access: AccessControl): Promise<boolean> {
  const parsed = resubmission.safeParse(turn.context.activity.value);
  if (!parsed.success) return false;
  const { context, userId } = turn;
  const dialogs = await turn.dialogs();
  if (dialogs.activeDialog) {
    await context.sendActivity('You already have a transfer in progress. Carry on with it, or type **cancel** to stop it first.');
    return true;
  }
  const request = await requests.get(parsed.data.requestId);
  if (!request) throw new AppError('REQUEST_NOT_FOUND');
  if (!requestAccess(request, { kind: 'person', userId }).own) throw new AppError('NOT_YOUR_REQUEST');
  const accounts = fixableAccounts(request);
  if (accounts.length === 0) throw new AppError('INVALID_INPUT', 'No account in that request was turned down for a reason you can fix.');
  const requester = await access.requester(userId);
  await context.sendActivity(
    `A new request from **${request.reference}**, with the ${accounts.length === 1 ? 'account' : plural(accounts.length, 'account')} you can fix. Fix ${accounts.length === 1 ? 'it' : 'each one'} first (the reasons are on the outcome card).`,
  );
  // The same line format the form reads back, so a specialism with a comma survives (entryAsLine quotes it).
  const previousList = accounts.map(entryAsLine).join('\n');
  await dialogs.beginDialog(TRANSFER_DIALOG, {
    requester,
    draftId: randomUUID(),
    earlierRequest: { reference: request.reference, reason: request.reason },
    previousList,
  } satisfies TransferDialogOptions);
  return true;
}
