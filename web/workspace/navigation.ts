/**
 * The page's address is its state: the view, the queue's filters and page, the request shown.
 * A link copied from the address bar opens the same thing for a colleague.
 */
export type View = 'queue' | 'request' | 'picture' | 'configure';

/** Kept across navigation (the theme a screenshot or a browser asked for). */
const STICKY = ['theme'];

export function currentView(): View {
  if (location.pathname.endsWith('/configure')) return 'configure';
  const view = new URLSearchParams(location.search).get('view');
  return view === 'request' || view === 'picture' ? view : 'queue';
}

export function params(): URLSearchParams {
  return new URLSearchParams(location.search);
}

/** The address of a view with these parameters (empty values left out). */
export function href(view: View, values: Record<string, string | number | boolean | undefined> = {}): string {
  const next = new URLSearchParams({ view });
  for (const [name, value] of Object.entries(values)) if (value !== undefined && value !== '' && value !== false) next.set(name, String(value));
  for (const name of STICKY) {
    const kept = params().get(name);
    if (kept) next.set(name, kept);
  }
  return `./?${next}`;
}

let onNavigate: () => void = () => undefined;

export function setNavigationHandler(handler: () => void): void {
  onNavigate = handler;
  window.addEventListener('popstate', () => onNavigate());
  // Links within the page change the address and the view without reloading; a new tab or window still works as a link.
  document.addEventListener('click', (event) => {
    const link = (event.target as Element | null)?.closest?.('a[data-internal]') as HTMLAnchorElement | null;
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(link.getAttribute('href') ?? './');
  });
}

export function navigate(address: string): void {
  history.pushState(null, '', address);
  onNavigate();
}

/** The queue address last shown, so "Back to the queue" returns to the same filters. */
export function rememberQueue(): void {
  sessionStorage.setItem('workspace.queue', location.search || '?view=queue');
}

export function lastQueue(): string {
  return `./${sessionStorage.getItem('workspace.queue') ?? '?view=queue'}`;
}
