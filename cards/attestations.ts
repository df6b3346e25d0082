import type { Attachment } from 'botbuilder';
import { ATTESTATION_TEXT } from './labels';
import { expandCard } from './render';
import template from './attestations.json';

export interface AttestationsCardData {
  organisationName: string;
  accountCount: number;
  /** Empty on first showing; says what is still unticked when shown again. */
  missingNotice: string;
}

export function renderAttestationsCard(data: AttestationsCardData): Attachment {
  return expandCard(template, { ...data, ...ATTESTATION_TEXT });
}
