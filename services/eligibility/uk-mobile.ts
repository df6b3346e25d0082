/**
 * A UK mobile is 07 followed by nine digits nationally, or +44 7 followed by nine digits.
 * Spaces, dashes, dots and brackets are formatting only.
 */
export function isValidUkMobile(raw: string | undefined): boolean {
  if (!raw) return false;
  const compact = raw.replace(/[\s\-().]/g, '');
  const national = compact.startsWith('+44') ? '0' + compact.slice(3) : compact.startsWith('0044') ? '0' + compact.slice(4) : compact;
  return /^07\d{9}$/.test(national);
}
