/**
 * Teams' Adaptive Card host configs, for rendering cards as Teams draws them.
 *
 * Light and dark: the values of the Adaptive Cards designer's Microsoft Teams host configs,
 * microsoft/AdaptiveCards `samples/HostConfig/microsoft-teams-light.json` and
 * `microsoft-teams-dark.json` (spacing, separator, font sizes and weights, container
 * foreground and background colours, actions). The light file names its fonts `fontStyles`,
 * an older key; here both use `fontTypes`, the key the SDK reads.
 *
 * High contrast: that repository publishes no Teams high-contrast config, so these colours
 * are written from Teams' high-contrast theme (black background, white text, cyan accent,
 * bright green, yellow and red), with the light config's sizes. Say so if you rely on it.
 */

type Foreground = { default: string; subtle: string };
type ForegroundSet = Record<'default' | 'dark' | 'light' | 'accent' | 'good' | 'warning' | 'attention', Foreground>;

const FONT = {
  default: {
    fontFamily: "'Segoe UI', Tahoma, Geneva, Verdana, sans-serif",
    fontSizes: { small: 12, default: 14, medium: 14, large: 18, extraLarge: 24 },
    fontWeights: { lighter: 200, default: 400, bolder: 600 },
  },
  monospace: {
    fontFamily: "'Courier New', Courier, monospace",
    fontSizes: { small: 12, default: 14, medium: 14, large: 18, extraLarge: 24 },
    fontWeights: { lighter: 200, default: 400, bolder: 600 },
  },
};

function hostConfig(
  foregrounds: ForegroundSet,
  backgrounds: { default: string; emphasis: string },
  separatorColor: string,
  onColouredBackground: ForegroundSet,
) {
  return {
    choiceSetInputValueSeparator: ',',
    supportsInteractivity: true,
    spacing: { small: 8, default: 12, medium: 16, large: 20, extraLarge: 24, padding: 16 },
    separator: { lineThickness: 1, lineColor: separatorColor },
    imageSizes: { small: 32, medium: 52, large: 100 },
    fontTypes: FONT,
    containerStyles: {
      default: { foregroundColors: foregrounds, backgroundColor: backgrounds.default },
      emphasis: { foregroundColors: foregrounds, backgroundColor: backgrounds.emphasis },
      accent: { foregroundColors: onColouredBackground, backgroundColor: '#C7DEF9' },
      good: { foregroundColors: onColouredBackground, backgroundColor: '#CCFFCC' },
      attention: { foregroundColors: onColouredBackground, backgroundColor: '#FFC5B2' },
      warning: { foregroundColors: onColouredBackground, backgroundColor: '#FFE2B2' },
    },
    actions: {
      maxActions: 6,
      spacing: 'Default',
      buttonSpacing: 8,
      showCard: { actionMode: 'Inline', inlineTopMargin: 16, style: 'emphasis' },
      preExpandSingleShowCardAction: false,
      actionsOrientation: 'Horizontal',
      actionAlignment: 'Left',
    },
    adaptiveCard: { allowCustomStyle: false },
    imageSet: { imageSize: 'Medium', maxImageHeight: 100 },
    factSet: {
      title: { size: 'Default', color: 'Default', isSubtle: false, weight: 'Bolder', wrap: true },
      value: { size: 'Default', color: 'Default', isSubtle: false, weight: 'Default', wrap: true },
      spacing: 16,
    },
  };
}

const LIGHT_FOREGROUNDS: ForegroundSet = {
  default: { default: '#ff252424', subtle: '#bf252424' },
  dark: { default: '#252424', subtle: '#bf252424' },
  light: { default: '#ffffff', subtle: '#fff3f2f1' },
  accent: { default: '#6264a7', subtle: '#8b8cc7' },
  good: { default: '#92c353', subtle: '#e592c353' },
  warning: { default: '#f8d22a', subtle: '#e5f8d22a' },
  attention: { default: '#c4314b', subtle: '#e5c4314b' },
};

const DARK_FOREGROUNDS: ForegroundSet = {
  default: { default: '#ffffffff', subtle: '#bfffffff' },
  dark: { default: '#ff201f1f', subtle: '#ff2d2c2c' },
  light: { default: '#ffffffff', subtle: '#bfffffff' },
  accent: { default: '#ffa6a7dc', subtle: '#ff8b8cc7' },
  good: { default: '#ff92c353', subtle: '#e592c353' },
  warning: { default: '#fff8d22a', subtle: '#e5f8d22a' },
  attention: { default: '#ffd74654', subtle: '#e5d74654' },
};
const DARK_ON_COLOURED: ForegroundSet = { ...DARK_FOREGROUNDS, default: { default: '#ff201f1f', subtle: '#ff2d2c2c' } };

const HIGH_CONTRAST_FOREGROUNDS: ForegroundSet = {
  default: { default: '#ffffff', subtle: '#ffffff' },
  dark: { default: '#000000', subtle: '#000000' },
  light: { default: '#ffffff', subtle: '#ffffff' },
  accent: { default: '#1aebff', subtle: '#1aebff' },
  good: { default: '#3ff23f', subtle: '#3ff23f' },
  warning: { default: '#ffff01', subtle: '#ffff01' },
  attention: { default: '#ff8080', subtle: '#ff8080' },
};

export const TEAMS_HOST_CONFIGS = {
  light: hostConfig(LIGHT_FOREGROUNDS, { default: '#ffffff', emphasis: '#fff9f8f7' }, '#EEEEEE', LIGHT_FOREGROUNDS),
  dark: hostConfig(DARK_FOREGROUNDS, { default: '#ff2d2c2c', emphasis: '#ff292828' }, '#EEEEEE', DARK_ON_COLOURED),
  'high-contrast': hostConfig(HIGH_CONTRAST_FOREGROUNDS, { default: '#000000', emphasis: '#000000' }, '#ffffff', HIGH_CONTRAST_FOREGROUNDS),
} as const;

export type TeamsTheme = keyof typeof TEAMS_HOST_CONFIGS;
