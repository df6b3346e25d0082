import type { Logger } from '../core/log';
import type { ScreenedAccount } from './eligibility/types';
import type { Attestations, RequesterContext } from './model';
import type { RequestRepository, Submitted } from './store/requests';

export interface Submission {
  /** The conversation's draft: the same draft submitted again is the same request. */
  draftId: string;
  requester: RequesterContext;
  reason: string;
  attestations: Attestations;
  policyVersion: string;
  /** Every screened account: the ineligible ones are kept as screened out, for the record and for ops to see, never for decision. */
  accounts: readonly ScreenedAccount[];
}

/**
 * Turns a reviewed draft into a request for NAS Operations. Storing it also makes its ops
 * card owed (the outbox delivers it), so a submission is never stored without being posted
 * and never posted twice.
 */
export class TransferWorkflow {
  constructor(
    private readonly requests: RequestRepository,
    private readonly logger: Logger,
  ) {}

  async submit(submission: Submission): Promise<Submitted> {
    const submitted = await this.requests.submit({
      draftId: submission.draftId,
      organisationOds: submission.requester.organisationOds,
      organisationName: submission.requester.organisationName,
      requester: { id: submission.requester.id, name: submission.requester.name },
      reason: submission.reason,
      attestations: submission.attestations,
      policyVersion: submission.policyVersion,
      accounts: submission.accounts,
    });
    const { request, created } = submitted;
    this.logger.info(created ? 'request.submitted' : 'request.resubmitted', { requestId: request.id, reference: request.reference, accountCount: request.accounts.length });
    return submitted;
  }
}
