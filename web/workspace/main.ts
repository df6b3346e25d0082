import './components';
import type { Actor } from './api-types';
import { renderConfigure } from './configure-view';
import { h } from './dom';
import { currentView, params, setNavigationHandler } from './navigation';
import { messageBar } from './parts';
import { renderPicture } from './picture-view';
import { renderQueue } from './queue-view';
import { renderRequest } from './request-view';
import { ApiError, Session } from './session';
import { followTheme } from './theme';

/**
 * The NAS Operations workspace page: signs in (Teams SSO, or the local demo sign-in), follows
 * the Teams theme, and draws the view its address names. Every figure comes from the API,
 * which checks the sign-in on each call.
 */
async function start(): Promise<void> {
  const main = document.getElementById('main') as HTMLElement;
  let session: Session;
  try {
    session = await Session.start();
  } catch {
    main.replaceChildren(h('h1', {}, 'NAS Operations workspace'), messageBar('error', 'Open this page from its tab in Microsoft Teams to sign in.'));
    return;
  }
  followTheme(session);
  if (currentView() === 'configure') return renderConfigure(main, session);

  let me: Actor;
  try {
    me = await session.json<Actor>('me');
  } catch (error) {
    showError(main, error);
    return;
  }
  const signedIn = document.getElementById('signed-in');
  if (signedIn) signedIn.textContent = `Signed in as ${me.name}`;

  let rendering = 0;
  const render = async () => {
    const turn = ++rendering;
    const view = currentView();
    for (const link of document.querySelectorAll<HTMLAnchorElement>('.nav-link')) {
      if (link.dataset.view === view || (view === 'request' && link.dataset.view === 'queue')) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.title = `${view === 'picture' ? 'Picture of the work' : view === 'request' ? 'Request' : 'Queue'} - NAS Operations workspace`;
    try {
      if (view === 'picture') await renderPicture(main, session);
      else if (view === 'request') await renderRequest(main, session, params().get('id') ?? '');
      else await renderQueue(main, session, me);
      if (turn === rendering) (main.querySelector('h1') as HTMLElement | null)?.focus();
    } catch (error) {
      if (turn === rendering) showError(main, error);
    }
    document.body.dataset.ready = String(turn);
  };
  for (const link of document.querySelectorAll<HTMLAnchorElement>('.nav-link')) link.dataset.internal = '';
  setNavigationHandler(() => void render());
  await render();
}

function showError(main: HTMLElement, error: unknown): void {
  const status = error instanceof ApiError ? error.status : 0;
  const text =
    status === 403
      ? 'This workspace is for members of NAS Operations.'
      : status === 401
        ? 'Your sign-in could not be checked. Open this page from its tab in Microsoft Teams.'
        : error instanceof ApiError
          ? error.message
          : 'Something went wrong loading this page. Please try again.';
  main.replaceChildren(h('h1', { tabindex: -1 }, 'NAS Operations workspace'), messageBar(status === 403 ? 'warning' : 'error', text, 'page-error'));
  document.body.dataset.ready = 'error';
}

void start();
