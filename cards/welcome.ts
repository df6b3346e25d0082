import type { Attachment } from 'botbuilder';
import { expandCard } from './render';
import template from './welcome.json';

export interface WelcomeCardData {
  firstName: string;
}

export function renderWelcomeCard(data: WelcomeCardData): Attachment {
  return expandCard(template, data);
}
