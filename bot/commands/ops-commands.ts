import { AppError } from '../../core/errors';
import type { RequestRepository } from '../../services/store/requests';
import type { AccessControl } from '../access-control';
import { describeRequestList, OPS_HELP } from '../replies';
import type { Command } from './command';
import { showStatus } from './status';

/** What NAS Operations can type in their channel. */
export function opsCommands(requests: RequestRepository, access: AccessControl): Command[] {
  return [
    {
      words: ['pending'],
      scope: 'channel',
      interruptsDialog: true,
      async run({ context, userId }) {
        if (!(await access.isOpsMember(userId))) throw new AppError('NOT_OPS');
        const pending = await requests.listAwaitingDecision();
        await context.sendActivity(pending.length === 0 ? 'No transfer requests are awaiting a decision.' : describeRequestList('Awaiting a decision:', pending));
      },
    },
    {
      words: ['status'],
      scope: 'channel',
      interruptsDialog: true,
      run: (turn) => showStatus(turn, requests, access, true),
    },
    {
      words: ['help'],
      scope: 'channel',
      interruptsDialog: true,
      run: async ({ context }) => {
        await context.sendActivity(OPS_HELP);
      },
    },
  ];
}
