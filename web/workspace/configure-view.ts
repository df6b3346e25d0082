import { pages } from '@microsoft/teams-js';
import { h } from './dom';
import type { Session } from './session';

/** The ops channel tab's configuration page: there is nothing to choose, so Save adds the workspace. */
export async function renderConfigure(main: HTMLElement, session: Session): Promise<void> {
  main.replaceChildren(
    h('h1', { tabindex: -1 }, 'Add the NAS Operations workspace'),
    h(
      'p',
      {},
      'This tab shows every transfer request in a queue you can filter, search and export, and a picture of the work. Only members of NAS Operations can see it.',
    ),
  );
  if (session.host.kind !== 'teams') return;
  const base = new URL('./', location.href).href;
  pages.config.registerOnSaveHandler((save) => {
    void pages.config.setConfig({ entityId: 'nas-operations-workspace', contentUrl: base, websiteUrl: base, suggestedDisplayName: 'NAS workspace' }).then(
      () => save.notifySuccess(),
      (error: unknown) => save.notifyFailure(String(error)),
    );
  });
  pages.config.setValidityState(true);
}
