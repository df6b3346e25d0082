import { escapeMarkdown } from '../core/text';
import { expandCard, type CardAttachment } from './render';
import template from './welcome.json';

export interface WelcomeCardData {
  firstName: string;
  /**
   * A NAS Operations member is greeted with their own commands, not the requester's form. Undefined
   * when the directory has not said yet: the requester's welcome, saying where NAS Operations' commands are.
   */
  forOps?: boolean;
}

export function renderWelcomeCard(data: WelcomeCardData): CardAttachment {
  return expandCard(template, { firstName: escapeMarkdown(data.firstName), forOps: data.forOps === true, placed: data.forOps !== undefined });
}
