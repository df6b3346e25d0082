import type { RequestStatus } from './api-types';
import { h } from './dom';

/** Small pieces several views share, made of Fluent components. */
const STATUS_COLOUR: Record<RequestStatus, string> = {
  submitted: 'informative',
  in_review: 'brand',
  decided: 'success',
  completed: 'success',
  withdrawn: 'subtle',
};

export function statusBadge(status: RequestStatus, label: string): HTMLElement {
  return h('fluent-badge', { appearance: 'tint', color: STATUS_COLOUR[status] ?? 'informative', 'data-status': status }, label);
}

export function messageBar(intent: 'info' | 'success' | 'warning' | 'error', text: string, id?: string): HTMLElement {
  return h('fluent-message-bar', { intent, id, role: intent === 'error' || intent === 'warning' ? 'alert' : 'status' }, text);
}
