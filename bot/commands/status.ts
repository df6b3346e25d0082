import { AppError } from '../../core/errors';
import { REQUEST_REFERENCE_PATTERN } from '../../services/model';
import { requestAccess } from '../../services/request-access';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import type { AccessControl } from '../access-control';
import { describeRequest, describeRequestList } from '../replies';
import type { CommandTurn } from './command';

/** "status" and "status NTR-…", for requesters (their own requests) and ops (any request). */
export async function showStatus(turn: CommandTurn, requests: TransferRequests, access: AccessControl, asOps: boolean): Promise<void> {
  const { context, argument: reference, userId } = turn;
  if (!userId) throw new AppError(asOps ? 'NOT_OPS' : 'NOT_AN_ADMINISTRATOR');
  if (reference === '') {
    if (asOps) {
      await context.sendActivity('Type **status NTR-…** for one request, or **pending** for those awaiting a decision.');
      return;
    }
    const mine = await requests.listBy(userId);
    const draft = (await turn.dialogs()).activeDialog ? '\n\nYou also have a transfer in progress here: carry on with it, or type **cancel**.' : '';
    await context.sendActivity(
      (mine.length === 0 ? 'You have no transfer requests yet. Type **new transfer** to start one.' : describeRequestList('Your transfer requests:', mine)) +
        draft,
    );
    return;
  }
  if (!REQUEST_REFERENCE_PATTERN.test(reference)) throw new AppError('INVALID_INPUT', 'A reference looks like NTR-100001.');
  const request = await requests.getByReference(reference);
  if (!request) throw new AppError('REQUEST_NOT_FOUND');
  const viewer = await access.viewer(context.activity);
  if (!requestAccess(request, viewer).see) throw new AppError('NOT_YOUR_REQUEST');
  // NAS Operations (and the ops channel) see the policy version and codes beside names; the requester sees names.
  await context.sendActivity(describeRequest(request, viewer.kind !== 'person'));
}
