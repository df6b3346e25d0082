import { app } from '@microsoft/teams-js';
import { setTheme } from '@fluentui/web-components';
import { teamsDarkTheme, teamsHighContrastTheme, teamsLightTheme } from '@fluentui/tokens';
import type { Session } from './session';

/**
 * The page wears the Teams theme: light, dark or high contrast as the Teams client says (and
 * again whenever the user changes it). Outside Teams: ?theme=dark|contrast|light, else the
 * browser's own preference.
 */
export type ThemeName = 'light' | 'dark' | 'contrast';

export function applyTheme(name: ThemeName): void {
  setTheme(name === 'dark' ? teamsDarkTheme : name === 'contrast' ? teamsHighContrastTheme : teamsLightTheme);
  document.documentElement.dataset.theme = name;
  document.documentElement.style.colorScheme = name === 'light' ? 'light' : 'dark';
}

function fromTeams(theme: string | undefined): ThemeName {
  return theme === 'dark' ? 'dark' : theme === 'contrast' ? 'contrast' : 'light';
}

export function followTheme(session: Session): void {
  if (session.host.kind === 'teams') {
    applyTheme(fromTeams(session.host.context.app.theme));
    app.registerOnThemeChangeHandler((theme) => applyTheme(fromTeams(theme)));
    return;
  }
  const asked = new URLSearchParams(location.search).get('theme');
  if (asked === 'dark' || asked === 'contrast' || asked === 'light') return applyTheme(asked);
  const dark = window.matchMedia('(prefers-color-scheme: dark)');
  applyTheme(dark.matches ? 'dark' : 'light');
  dark.addEventListener('change', (event) => applyTheme(event.matches ? 'dark' : 'light'));
}
