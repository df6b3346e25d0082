import type { Actor, StoredRequest } from './model';

/**
 * Who is looking at a request, as the Teams edge established it. NAS Operations membership
 * is confirmed in the directory (and fails closed); being in the ops channel's conversation
 * is said by Teams itself, not by anything the client chose.
 */
export type RequestViewer =
  /** Confirmed a member of NAS Operations just now. */
  | { kind: 'ops'; actor: Actor }
  /** In the NAS Operations channel, where every request's card is posted, but not confirmed as a member. */
  | { kind: 'ops-channel' }
  /** Anyone else in the tenant, by Entra object id. */
  | { kind: 'person'; userId: string | undefined };

export interface RequestAccess {
  /** May see the request: its card, its status, its accounts. */
  see: boolean;
  /** May act on it as NAS Operations: claim, decide, correct, ask, mark transferred, audit, export. */
  operate: boolean;
  /** Raised it: may withdraw it and answer questions about it. */
  own: boolean;
}

const NONE: RequestAccess = { see: false, operate: false, own: false };

/**
 * The one answer to "may this viewer see this request, and act on it". Every path that
 * renders or changes a request asks it. A request that does not exist gives the same answer
 * as one the viewer may not see, so refusals reveal nothing about which references exist.
 */
export function requestAccess(request: Pick<StoredRequest, 'requester'> | null | undefined, viewer: RequestViewer): RequestAccess {
  switch (viewer.kind) {
    case 'ops':
      return { see: request !== null && request !== undefined, operate: request !== null && request !== undefined, own: false };
    case 'ops-channel':
      return { ...NONE, see: request !== null && request !== undefined };
    case 'person': {
      const own = Boolean(request && viewer.userId && request.requester.id === viewer.userId);
      return { see: own, operate: false, own };
    }
  }
}
