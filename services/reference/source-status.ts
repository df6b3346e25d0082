/**
 * How fresh a data source is, for the ops command `sources`. Never holds a secret: `where`
 * is a file name or a URL's host, not a path, a query or a key.
 */
export interface SourceStatus {
  name: string;
  /** e.g. "CSV file", "ODS FHIR R4 API", "ORD API 2-0-0". */
  kind: string;
  where: string;
  /** When the data was produced (a file's date), ISO 8601. */
  dataDate?: string;
  /** When the source last answered, ISO 8601. */
  lastSuccessAt?: string;
  checkedAt?: string;
  rows?: number;
  skippedRows?: number;
  requests?: number;
  lastError?: { message: string; at: string };
  notes?: string;
}

/** A URL's host (and port), for showing where a service is without its path, query or credentials. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(not a URL)';
  }
}
