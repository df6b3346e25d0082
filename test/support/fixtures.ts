import type { ScreenedAccount, Verdict } from '../../services/eligibility/types';
import { silentLogger } from '../../core/log';
import type { Actor, RequestDetails } from '../../services/model';
import { TransferRequests } from '../../services/requests/transfer-requests';
import type { SqlDatabase } from '../../services/store/database';

/** The details of a demo request from Northmoor (ZZ9001), every attestation made. */
export function requestDetails(requester: Actor, policyVersion = '2026.11-1'): RequestDetails {
  return {
    organisationOds: 'ZZ9001',
    organisationName: 'Northmoor Community Care Partnership',
    requester,
    reason: 'Sponsorship ends in March.',
    attestations: { usersInformed: true, residualDataRemoved: true, notMarkedAsLeavers: true, resolutionForIneligible: true },
    policyVersion,
  };
}

/** A screened account; a `review` one carries the DSPT "Approaching Standards" reason of site ZZ9103. */
export function screenedAccount(position: number, email: string, verdict: Verdict): ScreenedAccount {
  return {
    position,
    email,
    siteOds: 'ZZ9103',
    verdict,
    reasons:
      verdict === 'review'
        ? [
            {
              rule: 'SITE_NOT_DSPT_COMPLIANT',
              verdict: 'review',
              message: 'Site ZZ9103 DSPT status is Approaching Standards.',
              remedy: 'Complete the DSPT for the site.',
            },
          ]
        : [],
    evidence: { directoryFound: true, siteOds: 'ZZ9103' },
  };
}

/** The request use cases over `db`, for store tests: nothing to wake, nothing logged. */
export function transferRequests(db: SqlDatabase): TransferRequests {
  return new TransferRequests(db, { workQueued() {} }, silentLogger);
}
