import { ATTESTATION_KEYS, type Attestations } from '../services/model';
import { escapeMarkdown } from '../core/text';
import { ATTESTATION_TEXT } from './labels';
import { plural } from './plural';
import { expandCard, type CardAttachment } from './render';
import template from './attestations.json';

export interface AttestationsCardData {
  organisationName: string;
  /** The accounts being submitted (eligible and for review): the confirmations are about these. */
  accountCount: number;
  /** Empty on first showing; says what is still unticked when shown again. */
  missingNotice: string;
  /** What the requester ticked last time: shown again ticked, so a correction is one more tick. */
  ticked?: Partial<Attestations>;
}

export function renderAttestationsCard(data: AttestationsCardData): CardAttachment {
  const values = Object.fromEntries(ATTESTATION_KEYS.map((key) => [`${key}Value`, data.ticked?.[key] ? 'true' : 'false']));
  return expandCard(template, {
    organisationName: escapeMarkdown(data.organisationName),
    accountsPhrase: plural(data.accountCount, 'account'),
    missingNotice: data.missingNotice,
    submitTitle: `Submit ${plural(data.accountCount, 'account')} to NAS`,
    ...values,
    ...ATTESTATION_TEXT,
  });
}
