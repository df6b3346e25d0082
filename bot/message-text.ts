import type { Activity } from 'botbuilder';
import { TurnContext } from 'botbuilder';

/**
 * The plain text of a message. Teams can deliver pasted lines as HTML (<p>, <br>) and
 * channel messages begin with an <at> mention of the bot; neither is part of what was said.
 */
export function plainText(activity: Partial<Activity>): string {
  const withoutMention = activity.entities ? TurnContext.removeRecipientMention(activity) ?? activity.text ?? '' : activity.text ?? '';
  return withoutMention
    .replace(/<at>[^<]*<\/at>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .trim();
}
