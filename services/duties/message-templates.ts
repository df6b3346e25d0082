import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../core/errors';
import { RULE_IDS, type RuleId } from '../eligibility/types';

/**
 * The messages to the users a transfer affects, as NAS word them: templates in the policy data
 * (policy/affected-users-messages.json), so NAS can reword them without a release. A template is
 * checked when it is loaded: one that drops the person's name, or (for people who are not
 * moving) their own reason and resolution, is refused, as is a placeholder nobody fills.
 */
export const AFFECTED_USERS_MESSAGES_FILE_NAME = 'affected-users-messages.json';
export const AFFECTED_USERS_MESSAGES_FILE = path.join(__dirname, '..', '..', 'policy', AFFECTED_USERS_MESSAGES_FILE_NAME);

/** When the messages are offered: after submission (decision not yet made), and after the outcome. */
export const MESSAGE_STAGES = ['submitted', 'outcome'] as const;
export type MessageStage = (typeof MESSAGE_STAGES)[number];

/** What each person needs to hear. */
export const MESSAGE_GROUPS = ['transferring', 'notEligible', 'keptLocally'] as const;
export type MessageGroup = (typeof MESSAGE_GROUPS)[number];

/** Every placeholder a template may use, and what fills it. */
export const PLACEHOLDERS = [
  'name',
  'email',
  'organisation',
  'requester',
  'reference',
  'decisionTimescale',
  'transferTimescale',
  'reason',
  'resolution',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** What a group's template must keep: each person is addressed by name, and told their own reason and way forward. */
export const REQUIRED_PLACEHOLDERS: Record<MessageGroup, readonly Placeholder[]> = {
  transferring: ['name'],
  notEligible: ['name', 'reason', 'resolution'],
  keptLocally: ['name', 'reason', 'resolution'],
};

/** Placeholders the reason and resolution words may use (never reason or resolution themselves). */
const PHRASE_PLACEHOLDERS = ['organisation', 'requester', 'decisionReason'] as const;

const templateSchema = z.object({ subject: z.string().trim().min(1).max(255), body: z.string().trim().min(1).max(10_000) });
const stageSchema = z.object({ transferring: templateSchema, notEligible: templateSchema, keptLocally: templateSchema });
const ruleWords = z.partialRecord(z.enum(RULE_IDS), z.string().trim().min(1).max(1000));

const fileSchema = z.object({
  version: z.string().min(1),
  notes: z.array(z.string()).optional(),
  placeholders: z.array(z.string()),
  notTold: z.object({ rules: z.array(z.enum(RULE_IDS)), why: z.string().min(1) }),
  templates: z.object({ submitted: stageSchema, outcome: stageSchema }),
  tooLittleHistory: z.string().trim().min(1),
  nasDecisionReason: z.string().trim().min(1),
  nasDecisionResolution: z.string().trim().min(1),
  defaultResolution: z.string().trim().min(1),
  reasons: ruleWords,
  resolutions: ruleWords,
});

export interface MessageTemplate {
  subject: string;
  body: string;
}

export interface AffectedUserMessages {
  version: string;
  templates: Record<MessageStage, Record<MessageGroup, MessageTemplate>>;
  /** Rules whose accounts get no message (the address may not be the person's, or the account is not the requester's to tell). */
  notTold: ReadonlySet<RuleId>;
  /** Said in place of a timescale when there is too little history to measure one. */
  tooLittleHistory: string;
  /** Reason and resolution for an account NAS Operations turned down ({{decisionReason}}: their words). */
  nasDecisionReason: string;
  nasDecisionResolution: string;
  defaultResolution: string;
  reasons: Partial<Record<RuleId, string>>;
  resolutions: Partial<Record<RuleId, string>>;
}

const PLACEHOLDER_PATTERN = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** The placeholders a text uses. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER_PATTERN)].map((match) => match[1] ?? '');
}

/**
 * The problems with a file's templates, in words NAS can act on (empty when there are none):
 * which template, and what it dropped or names that nobody fills.
 */
export function templateProblems(messages: Pick<AffectedUserMessages, 'templates'> & Partial<AffectedUserMessages>): string[] {
  const problems: string[] = [];
  for (const stage of MESSAGE_STAGES) {
    for (const group of MESSAGE_GROUPS) {
      const template = messages.templates[stage][group];
      const where = `The template ${stage}.${group}`;
      const used = new Set([...placeholdersIn(template.subject), ...placeholdersIn(template.body)]);
      for (const required of REQUIRED_PLACEHOLDERS[group]) {
        if (!used.has(required)) problems.push(`${where} no longer includes {{${required}}}: ${WHY_REQUIRED[required] ?? 'it is needed'}. Put it back.`);
      }
      for (const name of used) {
        if (!(PLACEHOLDERS as readonly string[]).includes(name))
          problems.push(`${where} uses {{${name}}}, which the bot does not fill. Use one of: ${PLACEHOLDERS.join(', ')}.`);
        else if (group === 'transferring' && (name === 'reason' || name === 'resolution'))
          problems.push(`${where} uses {{${name}}}, which only the messages to people who are not moving have.`);
      }
    }
  }
  const phrases: Array<[string, string | undefined]> = [
    ['tooLittleHistory', messages.tooLittleHistory],
    ['nasDecisionReason', messages.nasDecisionReason],
    ['nasDecisionResolution', messages.nasDecisionResolution],
    ['defaultResolution', messages.defaultResolution],
    ...Object.entries(messages.reasons ?? {}).map(([rule, text]): [string, string] => [`reasons.${rule}`, text ?? '']),
    ...Object.entries(messages.resolutions ?? {}).map(([rule, text]): [string, string] => [`resolutions.${rule}`, text ?? '']),
  ];
  for (const [where, text] of phrases) {
    for (const name of placeholdersIn(text ?? '')) {
      if (!(PHRASE_PLACEHOLDERS as readonly string[]).includes(name))
        problems.push(
          `The words ${where} use {{${name}}}; words put into a message may use only ${PHRASE_PLACEHOLDERS.map((each) => `{{${each}}}`).join(', ')}.`,
        );
    }
  }
  if (messages.nasDecisionReason !== undefined && !placeholdersIn(messages.nasDecisionReason).includes('decisionReason'))
    problems.push(
      'The words nasDecisionReason no longer include {{decisionReason}}: a person turned down by NAS Operations must be told their reason. Put it back.',
    );
  return problems;
}

const WHY_REQUIRED: Partial<Record<Placeholder, string>> = {
  name: 'each message must be addressed to its own person',
  reason: 'each person who is not moving must be told their own reason',
  resolution: 'each person who is not moving must be told what they can do next',
};

/** Reads and checks the messages file; refuses it, saying what is wrong, when a template would not tell each person their own. */
export function parseAffectedUserMessages(raw: unknown, source = AFFECTED_USERS_MESSAGES_FILE_NAME): AffectedUserMessages {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new AppError('CONFIG_INVALID', `The messages file ${source} is not valid: ${problems}`);
  }
  const data = parsed.data;
  const messages: AffectedUserMessages = {
    version: data.version,
    templates: data.templates,
    notTold: new Set(data.notTold.rules),
    tooLittleHistory: data.tooLittleHistory,
    nasDecisionReason: data.nasDecisionReason,
    nasDecisionResolution: data.nasDecisionResolution,
    defaultResolution: data.defaultResolution,
    reasons: data.reasons,
    resolutions: data.resolutions,
  };
  const problems = templateProblems(messages);
  if (problems.length > 0) throw new AppError('CONFIG_INVALID', `The messages file ${source} cannot be used: ${problems.join(' ')}`);
  return messages;
}

export function loadAffectedUserMessages(file: string = AFFECTED_USERS_MESSAGES_FILE): AffectedUserMessages {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new AppError('CONFIG_INVALID', `The messages file ${path.basename(file)} could not be read as JSON.`);
  }
  return parseAffectedUserMessages(raw, path.basename(file));
}

/** Fills a text's placeholders; a placeholder with no value is left as it is (the checks above make that a bug, not a wording). */
export function fill(text: string, values: Partial<Record<string, string>>): string {
  return text.replace(PLACEHOLDER_PATTERN, (whole, name: string) => values[name] ?? whole);
}
