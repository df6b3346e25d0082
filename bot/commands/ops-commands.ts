import { AppError } from '../../core/errors';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import type { AccessControl } from '../access-control';
import { describeRequestList, OPS_HELP } from '../replies';
import type { Command } from './command';
import { showStatus } from './status';

/**
 * What NAS Operations can type in their channel. `pending` also works in a member's personal
 * chat with the bot (as do audit and export), with the same authorisation.
 */
export function opsCommands(requests: TransferRequests, access: AccessControl, opsChannelProblem: () => Promise<string | null>): Command[] {
  return [
    {
      words: ['pending'],
      scope: ['channel', 'personal'],
      interruptsDialog: true,
      async run({ context, userId }) {
        if (!(await access.isOpsMember(userId))) throw new AppError('NOT_OPS');
        const [{ awaitingDecision: undecided, awaitingTransfer: untransferred }, problem] = await Promise.all([requests.pending(), opsChannelProblem()]);
        // Cards the channel refused are held, not lost: whoever looks at the queue is told why they are not in the channel.
        const warning = problem ? [`**${problem}**`] : [];
        if (undecided.length === 0 && untransferred.length === 0) {
          await context.sendActivity([...warning, 'No transfer requests are awaiting a decision or a transfer.'].join('\n\n'));
          return;
        }
        const parts = [
          ...warning,
          undecided.length > 0 ? describeRequestList('Awaiting a decision:', undecided) : 'No transfer requests are awaiting a decision.',
          ...(untransferred.length > 0
            ? [describeRequestList('Decided, awaiting transfer (approved accounts not yet marked transferred):', untransferred)]
            : []),
        ];
        await context.sendActivity(parts.join('\n\n'));
      },
    },
    {
      words: ['status'],
      scope: 'channel',
      interruptsDialog: true,
      run: (turn) => showStatus(turn, requests, access, true),
    },
    {
      words: ['help', 'ops help'],
      scope: 'channel',
      interruptsDialog: true,
      run: async ({ context }) => {
        await context.sendActivity(OPS_HELP);
      },
    },
  ];
}
