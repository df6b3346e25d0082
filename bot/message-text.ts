import type { Activity } from 'botbuilder';
import { TurnContext } from 'botbuilder';

/*
 * Every pattern here runs on text anyone in the tenant can send (up to MAX_MESSAGE_CHARS), so
 * each must be linear: no pattern may let one attempt scan past a '<' it could start on again.
 * `/<[^>]+>/` did, and '<' repeated 59,000 times held the event loop for seconds.
 */
/** A mention Teams wrote into the text (channel messages begin with `<at>Bot</at>`). */
const MENTION = /<at>[^<]*<\/at>/gi;
/** Teams delivers pasted lines as HTML: a line break or the end of a paragraph is a new line. */
const LINE_BREAK = /<br\s*\/?>|<\/(?:p|div)>/gi;
/** Any other tag; `[^<>]` stops each attempt at the next '<', so unclosed tags cost linear time. */
const TAG = /<[^<>]+>/g;
const ENTITY = /&(nbsp|lt|gt|amp);/g;
const ENTITY_TEXT: Record<string, string> = { nbsp: ' ', lt: '<', gt: '>', amp: '&' };

/**
 * The plain text of a message. Teams can deliver pasted lines as HTML (<p>, <br>) and
 * channel messages begin with an <at> mention of the bot; neither is part of what was said.
 */
export function plainText(activity: Partial<Activity>): string {
  const withoutMention = activity.entities ? (TurnContext.removeRecipientMention(activity) ?? activity.text ?? '') : (activity.text ?? '');
  return (
    withoutMention
      .replace(MENTION, '')
      .replace(LINE_BREAK, '\n')
      .replace(TAG, '')
      // One pass, so "&amp;lt;" becomes "&lt;" as written, not "<".
      .replace(ENTITY, (_entity, name: string) => ENTITY_TEXT[name] ?? '')
      .trim()
  );
}
