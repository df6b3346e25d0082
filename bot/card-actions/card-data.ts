import { z } from 'zod';

/** Card data arrives as strings from templates; every id is re-checked as a positive integer. */
export const requestIdField = z.coerce.number().int().positive().max(2_147_483_647);
export const pageField = z.coerce.number().int().min(1).max(10_000).default(1);
export const decisionReasonField = z
  .string()
  .trim()
  .max(500)
  .optional()
  .transform((value) => (value ? value : undefined));
